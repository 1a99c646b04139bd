#!/usr/bin/env node
// The published entry point. lendpay is written in TypeScript and run from source:
// tsx registers its loader so that this works on Node 20 as well as on 22.12+,
// where plain type stripping would need flags on some versions.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
