// Types of bin/heap-limit.js, for the TypeScript that imports it (bench/backup.ts).
export declare const BACKUP_HEAP_MB: number;
export declare function heapArgs(env?: NodeJS.ProcessEnv): string[];
export declare function needsHeapLimit(args: string[], execArgv?: string[], env?: NodeJS.ProcessEnv): boolean;
