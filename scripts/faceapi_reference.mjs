// Reference outputs of face-api's expression net for tests/test_faceapi.py.
//
// Runs the original network (@vladmandic/face-api on @tensorflow/tfjs, cpu backend) on the
// fixture crops in tests/fixtures/faceapi/*.png and writes tests/fixtures/faceapi/reference.json:
// per fixture, face-api's probabilities for the whole crop (predictExpressions on the crop
// tensor: face-api's own pad-to-square, bilinear resize to 112 and mean subtraction), and for a
// few boxes cut with face-api's extractFaceTensors (clipped at the borders, floored).
//
// Rerun (node 18+; the npm registry is the only network access needed):
//   mkdir -p /tmp/faceapi_ref && cd /tmp/faceapi_ref && npm init -y
//   npm install @vladmandic/face-api@1.7.15 @tensorflow/tfjs@4.22.0 \
//       @tensorflow/tfjs-backend-wasm@4.22.0 pngjs@7
//   node /path/to/pixelfes/scripts/faceapi_reference.mjs /tmp/faceapi_ref
// The first argument is the folder whose node_modules hold those packages.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const nodeDir = path.resolve(process.argv[2] || '.');
const require = createRequire(path.join(nodeDir, 'package.json'));

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', 'tests', 'fixtures', 'faceapi');
const faceapiDir = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
// the CommonJS build that runs on the installed @tensorflow/tfjs (it also loads the wasm backend)
const faceapi = require(path.join(faceapiDir, 'dist', 'face-api.node-wasm.js'));
const { PNG } = require('pngjs');
const tf = faceapi.tf;

await tf.setBackend('cpu');
await tf.ready();

// face-api's own loader reads the manifest and shards from its model folder.
const modelDir = path.join(faceapiDir, 'model');
const manifestPath = path.join(modelDir, 'face_expression_model-weights_manifest.json');
const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
const specs = manifest.flatMap((g) => g.weights);
const shards = manifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(modelDir, p)));
const buffer = Buffer.concat(shards);
const weightMap = tf.io.decodeWeights(
  buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength), specs);
const net = new faceapi.FaceExpressionNet();
net.loadFromWeightMap(weightMap);

const labels = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];
const probs = (e) => labels.map((k) => e[k]);

function readPng(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const { width, height, data } = png;  // RGBA
  const rgb = new Int32Array(width * height * 3);
  for (let i = 0; i < width * height; i += 1) {
    rgb[3 * i] = data[4 * i]; rgb[3 * i + 1] = data[4 * i + 1]; rgb[3 * i + 2] = data[4 * i + 2];
  }
  return tf.tensor3d(rgb, [height, width, 3], 'int32');
}

const files = fs.readdirSync(fixtures).filter((f) => f.endsWith('.png')).sort();
const out = [];
for (const file of files) {
  const img = readPng(path.join(fixtures, file));
  const [h, w] = img.shape;
  const whole = probs(await net.predictExpressions(img));
  // boxes (x, y, width, height) in pixels: inside, over the top-left and over the bottom-right border
  const boxes = [
    [0.1 * w + 0.3, 0.05 * h + 0.6, 0.75 * w, 0.8 * h],
    [-0.2 * w, -0.1 * h, 0.9 * w + 0.5, 0.7 * h],
    [0.3 * w + 0.7, 0.25 * h, 0.9 * w, h],
  ];
  const boxed = [];
  for (const [x, y, bw, bh] of boxes) {
    const [face] = await faceapi.extractFaceTensors(img, [new faceapi.Rect(x, y, bw, bh)]);
    boxed.push({ box_xywh: [x, y, bw, bh], crop_shape: face.shape, probabilities: probs(await net.predictExpressions(face)) });
    face.dispose();
  }
  out.push({ file, shape: img.shape, probabilities: whole, boxes: boxed });
  img.dispose();
}

const pkg = JSON.parse(fs.readFileSync(path.join(faceapiDir, 'package.json'), 'utf8'));
const result = {
  produced_by: 'scripts/faceapi_reference.mjs',
  face_api: pkg.version,
  tfjs: tf.version.tfjs,
  backend: tf.getBackend(),
  node: process.version,
  labels,
  fixtures: out,
};
fs.writeFileSync(path.join(fixtures, 'reference.json'), `${JSON.stringify(result, null, 1)}\n`);
console.log(`wrote ${out.length} fixtures to ${path.join(fixtures, 'reference.json')}`);
