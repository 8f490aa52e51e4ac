#!/usr/bin/env node
// Turns edgetap edge batches back into edges, whichever payload format the agent publishes.
//
//     mosquitto_sub -h BROKER -t 'edgetap/+/edges' | node examples/consumers/columnar.js
//
// Reads one batch per line on stdin and prints one edge per line as JSON, each batch's edges in
// time order: {"device": ..., "seq": ..., "pin": 18, "level": 1, "t_us": ..., "after_gap": false}.
// No packages needed; `edges()` is the part to copy (e.g. into a Node-RED function node:
// `msg.payload = edges(msg.payload); return msg;`). Times stay exact: UTC µs are below 2^53.
'use strict';

function edges(batch) {
  let out = [];
  if (batch.v === 1) {
    // batch.format = "json": one object per edge
    out = batch.edges.map((e) => ({ ...e, after_gap: e.after_gap === true }));
  } else {
    // batch.format = "columnar": per pin, runs of alternating levels as time deltas
    for (const run of batch.pins) {
      const flagged = new Set(run.after_gap || []);
      let t = batch.t0_us;
      let level = run.level;
      run.dt_us.forEach((dt, k) => {
        t += dt; // the first from t0_us, each next from the edge before it
        if (k > 0) level = 1 - level; // a pin's edges alternate within a run
        out.push({ pin: run.pin, level, t_us: t, after_gap: flagged.has(k) });
      });
    }
  }
  return out.sort((a, b) => a.t_us - b.t_us); // stable: each pin's edges keep their order
}

module.exports = { edges };

if (require.main === module) {
  const lines = require('readline').createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    const batch = JSON.parse(line);
    for (const e of edges(batch)) {
      console.log(JSON.stringify({ device: batch.device, seq: batch.seq, ...e }));
    }
    // Gaps (samples or edges lost) and rate-limited counts read the same in both formats.
    for (const g of batch.gaps || []) {
      console.error(`gap ${g.from_us}..${g.to_us} in seq ${batch.seq}`);
    }
  });
}
