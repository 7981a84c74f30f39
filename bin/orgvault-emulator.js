#!/usr/bin/env node
// The Salesforce org emulator, run from its TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../emulator/cli.ts');
