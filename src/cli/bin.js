#!/usr/bin/env node
// The published entry point. lendpay is written in TypeScript and run from source.
// Node 24 strips the types itself (the code keeps to erasable syntax, checked by
// tsconfig's erasableSyntaxOnly): that starts a command in half the time of a loader,
// which counts for workers that restart. Older Nodes (20, 22) go through tsx's loader.
import module from 'node:module';

// V8's code cache (and, on Node 24, the stripped TypeScript) kept on disk between runs:
// a restarted worker compiles nothing it compiled before
module.enableCompileCache?.();
const [major] = process.versions.node.split('.').map(Number);
if (process.features.typescript && major >= 24) {
  await import('./main.ts');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}
