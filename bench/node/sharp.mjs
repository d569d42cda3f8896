// bench/run.py's sharp methods: one long-lived process, so Node's start-up is never timed. Reads one JSON request
// per line on stdin, answers one JSON line on stdout: wall and CPU milliseconds (every thread of this process), in
// total and to the first output, and the outputs (base64) for bench/run.py's SSIM.
//   {"path": "...", "mode": "per-output", "specs": [{"name", "width", "height", "format", "quality"}]}
//     each output from the file (shrink-on-load), as pyvips' thumbnail does: the legacy set;
//   {"path": "...", "mode": "decode-once", "decode": [width, height], "specs": [...]}
//     Immich's thumbnail job: one decode, scaled on load to the preview's size, to raw pixels; every output from them.
import readline from "node:readline";
import sharp from "sharp";

sharp.cache(false);

function encode(pipeline, spec) {
  const resized = pipeline.resize(spec.width, spec.height, { fit: "inside", withoutEnlargement: true });
  return spec.format === "JPEG"
    ? resized.jpeg({ quality: spec.quality })
    : resized.webp({ quality: spec.quality });
}

async function run(request) {
  const startWall = process.hrtime.bigint();
  const startCpu = process.cpuUsage();
  const elapsed = () => {
    const cpu = process.cpuUsage(startCpu);
    return { wall: Number(process.hrtime.bigint() - startWall) / 1e6, cpu: (cpu.user + cpu.system) / 1000 };
  };
  const outputs = [];
  let first = null;
  const keep = (spec, data) => {
    if (first === null) first = elapsed();
    outputs.push({ name: spec.name, data: data.toString("base64") });
  };
  if (request.mode === "per-output") {
    for (const spec of request.specs) {
      keep(spec, await encode(sharp(request.path, { failOn: "none" }).rotate(), spec).toBuffer());
    }
  } else {
    const [width, height] = request.decode;
    const { data, info } = await sharp(request.path, { failOn: "none" })
      .rotate()
      .resize(width, height, { fit: "inside", withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
    for (const spec of request.specs) {
      keep(spec, await encode(sharp(data, raw), spec).toBuffer());
    }
  }
  const total = elapsed();
  return { wall: total.wall, cpu: total.cpu, first_wall: first.wall, first_cpu: first.cpu, outputs };
}

const lines = readline.createInterface({ input: process.stdin });
console.log(JSON.stringify({ sharp: sharp.versions.sharp, vips: sharp.versions.vips, node: process.version }));
for await (const line of lines) {
  try {
    console.log(JSON.stringify(await run(JSON.parse(line))));
  } catch (error) {
    console.log(JSON.stringify({ error: String(error.message || error) }));
  }
}
