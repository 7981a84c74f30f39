#!/usr/bin/env node
// orgvault runs from its TypeScript sources through tsx: no build step, so `npm install` is enough.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
