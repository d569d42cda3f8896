import django_rq
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from rq import Worker


def _error(request, exc: Exception) -> str:
    # Staff may see what failed; an anonymous caller (a load balancer, anyone) learns only that it did.
    return f"error: {exc.__class__.__name__}" if request.user.is_staff else "error"


@login_not_required
@never_cache
def healthz(request):
    body = {"database": "ok", "redis": "ok", "workers": 0}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        body["database"] = _error(request, exc)
        healthy = False
    try:
        redis = django_rq.get_connection("default")
        redis.ping()
        body["workers"] = Worker.count(connection=redis)
    except Exception as exc:
        body["redis"] = _error(request, exc)
        healthy = False
    if body["workers"] == 0:
        healthy = False
    return JsonResponse(body, status=200 if healthy else 503)
