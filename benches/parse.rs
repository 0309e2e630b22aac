//! Criterion: reading and writing one memory file, without I/O.
//!
//! ```text
//! cargo bench --bench parse
//! ```
//!
//! `parse_memory` (front-matter and body of a file as memdir writes it), `render_new` (the
//! same memory back to text) and `passages` (the body split into what search indexes). The
//! file is a typical one: a title, tags, provenance and a body of a heading, two paragraphs
//! and a list.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memdir::{Revision, parse};

const PATH: &str = "procedure/deploy-staging-3f9a1c.md";
const FILE: &str = "---
id: deploy-staging-3f9a1c
title: Deploy to staging on Fridays
type: procedure
tags: [infra, ops, release]
created: 2026-11-20T09:14:03Z
updated: 2026-11-24T16:02:41Z
source:
  session: s-2026-11-20-a
  agent: claude
---

# Deploy

Staging deploys run from the release branch after the weekly review, never during the
Friday freeze. The pipeline needs the staging token from the vault and the database
migration applied first; roll back with the script in ops/rollback.sh if latency alerts fire.

Alice asked that every deploy is announced in the team channel with the ticket number, and
that the dashboard is checked for ten minutes after it.

- Build with `make release`, then run the smoke tests against port 8443.
- If the queue worker lags, restart it before the migration, not after.
- Bob owns the backup schedule; ask him before touching the nightly cache job.
";

fn parse_render(c: &mut Criterion) {
    let revision = Revision("0".repeat(40));
    let memory = parse::parse_memory(PATH, FILE.as_bytes(), revision.clone())
        .expect("the sample file parses");
    c.bench_function("parse_memory", |b| {
        b.iter(|| parse::parse_memory(PATH, black_box(FILE.as_bytes()), revision.clone()))
    });
    c.bench_function("render_new", |b| {
        b.iter(|| parse::render_new(black_box(&memory.front), black_box(&memory.body)))
    });
    c.bench_function("passages", |b| {
        b.iter(|| parse::passages(black_box(&memory.body), memory.body_line))
    });
}

criterion_group!(benches, parse_render);
criterion_main!(benches);
