/**
 * orgvault's errors. Each has a stable `code` for scripts and the `cause` it wraps; the CLI maps
 * them to exit codes in one place (src/cli/main.ts), as changesets does.
 */

/** Exit codes shared by every command: 0 success, 1 completed with object errors, 2 bad usage, 3 failed. */
export const ExitCode = {
  Success: 0,
  CompletedWithErrors: 1,
  Usage: 2,
  Failed: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class OrgvaultError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: ExitCode } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? ExitCode.Failed;
  }
}

/** A flag, argument, filter or config value is wrong; the message says which and how to fix it. */
export class UsageError extends OrgvaultError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('USAGE', message, { ...options, exitCode: ExitCode.Usage });
  }
}

/** Salesforce answered with an error; `statusCode` is Salesforce's own (INVALID_SESSION_ID…). */
export class SalesforceApiError extends OrgvaultError {
  readonly statusCode: string;
  constructor(statusCode: string, message: string, options: { cause?: unknown } = {}) {
    super('SALESFORCE', `${statusCode}: ${message}`, options);
    this.statusCode = statusCode;
  }
}

/** Logging in to an org failed: bad credentials, an inactive user, an unknown connected app. */
export class AuthenticationError extends OrgvaultError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('AUTHENTICATION', message, options);
  }
}
