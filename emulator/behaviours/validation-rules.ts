/**
 * Enforcing the org's validation rules. The rules live in one place, the metadata store
 * (`metadataState(org).rules`): deployed through the Metadata API, set through the metadata admin
 * API, seeded, or added as `validationRule` behaviours. Every write path (REST, composite, Bulk,
 * SOAP) goes through the org's write pipeline, whose validation phase calls `checkValidationRules`.
 */
import { SalesforceError } from '../org/errors.ts';
import type { Org, WriteContext } from '../org/org.ts';
import type { ObjectSchema } from '../org/schema.ts';
import { metadataState } from '../metadata/model.ts';
import type { ValidationRuleMetadata } from '../metadata/model.ts';
import { writeEnv } from './env.ts';
import { compileCondition, holds } from './formula.ts';
import type { Expr } from './formula.ts';

/**
 * Compiled conditions by stored rule object. Rules are replaced, never mutated, so a changed rule
 * is compiled afresh; `null` marks a formula that no longer compiles (a field it reads was
 * removed since), which Salesforce would not have let happen and which therefore never fires.
 */
const compiled = new WeakMap<ValidationRuleMetadata, { schema: unknown; expr: Expr | null }>();

/**
 * Checks a rule's formula against an object's fields; throws SpecError (field `formula`) naming
 * what does not resolve. Metadata writes call it before storing a rule.
 */
export function compileRuleFormula(org: Org, object: ObjectSchema, formula: string): Expr {
  return compileCondition({ formula }, object, org.schema, { required: true })!;
}

/** Records the expression a rule was compiled to when it was added, so it is not parsed again. */
export function primeCompiledRule(org: Org, rule: ValidationRuleMetadata, expr: Expr): void {
  compiled.set(rule, { schema: org.schema, expr });
}

function conditionOf(org: Org, rule: ValidationRuleMetadata, object: ObjectSchema): Expr | null {
  const cached = compiled.get(rule);
  // A schema change (a field added or removed) may change what the formula means.
  if (cached && cached.schema === org.schema) return cached.expr;
  let expr: Expr | null;
  try {
    expr = compileRuleFormula(org, object, rule.errorConditionFormula);
  } catch {
    expr = null;
  }
  compiled.set(rule, { schema: org.schema, expr });
  return expr;
}

/**
 * The FIELD_CUSTOM_VALIDATION_EXCEPTION errors of a write: every active rule of the object whose
 * condition holds. Rules run on insert and update (upsert included), never on delete or undelete.
 */
export function checkValidationRules(ctx: WriteContext): SalesforceError[] {
  if (ctx.operation !== 'create' && ctx.operation !== 'update') return [];
  const errors: SalesforceError[] = [];
  const objectName = ctx.object.name;
  let env: ReturnType<typeof writeEnv> | undefined;
  for (const rule of metadataState(ctx.org).rules.values()) {
    if (!rule.active || rule.object !== objectName) continue;
    const expr = conditionOf(ctx.org, rule, ctx.object);
    if (!expr) continue;
    env ??= writeEnv(ctx);
    if (!holds(expr, env)) continue;
    errors.push(new SalesforceError('FIELD_CUSTOM_VALIDATION_EXCEPTION', rule.errorMessage, { fields: rule.errorDisplayField ? [rule.errorDisplayField] : [] }));
  }
  return errors;
}
