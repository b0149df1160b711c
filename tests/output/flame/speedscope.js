// speedscope.js SCHEMA FILE [FOLDED]: FILE validates against speedscope's
// file-format JSON schema (shipped in the speedscope npm package) and
// makes sense: one sampled profile, indices in range, a weight per
// sample, weights adding up to endValue, each frame named once, and, given
// the FOLDED stacks it was made from, the same stacks with the same counts.
// Prints what is wrong and exits 1, or prints a summary.
'use strict';
const fs = require('fs');
const Ajv = require('ajv');

const [schemaPath, filePath, foldedPath] = process.argv.slice(2);
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
const file = JSON.parse(fs.readFileSync(filePath, 'utf8'));
const problems = [];

const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
if (!validate(file))
  for (const e of validate.errors) problems.push('schema: ' + e.instancePath + ' ' + e.message);

const frames = file.shared.frames.map((f) => f.name);
if (new Set(frames).size !== frames.length) problems.push('a frame name appears twice');
if (file.profiles.length !== 1) problems.push(file.profiles.length + ' profiles');
const p = file.profiles[0];
if (p.type !== 'sampled') problems.push('profile type ' + p.type);
if (p.samples.length !== p.weights.length)
  problems.push(p.samples.length + ' samples, ' + p.weights.length + ' weights');
const sum = p.weights.reduce((a, b) => a + b, 0);
if (sum !== p.endValue - p.startValue) problems.push('weights add up to ' + sum + ', endValue ' + p.endValue);
const lines = p.samples.map((s, i) => {
  if (!s.length || s.some((k) => !Number.isInteger(k) || k < 0 || k >= frames.length))
    problems.push('sample ' + i + ' has a bad frame index: ' + JSON.stringify(s));
  return s.map((k) => frames[k]).join(';') + ' ' + p.weights[i];
});
if (foldedPath) {
  const want = fs.readFileSync(foldedPath, 'utf8').split('\n').filter((l) => l.trim());
  const a = lines.slice().sort().join('\n'), b = want.slice().sort().join('\n');
  if (a !== b) problems.push('stacks differ from ' + foldedPath + ':\n' + a + '\n--\n' + b);
}
for (const m of problems.slice(0, 10)) console.log(m);
if (problems.length) process.exit(1);
console.log(frames.length + ' frames, ' + p.samples.length + ' samples, total ' + sum + ': valid');
