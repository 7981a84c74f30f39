/**
 * The behaviours configured on each org, and the one write behaviour that runs them in
 * Salesforce's order of execution. Configuration lives here, per org, not in the org's state: a
 * reseed or reset changes the data, not the org's automation.
 *
 * Validation rules are the exception: they are metadata, stored with the org's other validation
 * rules (emulator/metadata) so that the Metadata API and the write pipeline see one set. A
 * `validationRule` behaviour is kept here only as a reference to its stored rule, for the admin
 * API's listing order and for removal.
 */
import type { SalesforceError } from '../org/errors.ts';
import type { Org, WriteContext } from '../org/org.ts';
import { findValidationRule, putValidationRule, removeValidationRule } from '../metadata/model.ts';
import type { ValidationRuleMetadata } from '../metadata/model.ts';
import { duplicateRule } from './duplicates.ts';
import {
  approvalLock,
  fieldTypeChange,
  inactiveUserLookup,
  invalidUser,
  invalidUserObject,
  lookupFilter,
  recordError,
  recordTypes,
  rowLock,
  sharing,
  unknownException,
  validationRule,
} from './rules.ts';
import type { Phase, Rule, ValidationRule, ValidationRuleInfo } from './rules.ts';
import { SpecError } from './spec.ts';
import type { Spec } from './spec.ts';
import { TriggerStack, trigger } from './triggers.ts';
import type { Trigger } from './triggers.ts';
import { checkValidationRules, primeCompiledRule } from './validation-rules.ts';

/** A validation rule added as a behaviour: where it is stored, and the spec it was added with. */
interface RuleReference {
  readonly kind: 'validationRule';
  readonly name: string;
  readonly object: string;
  /** The stored rule as this behaviour left it; a later metadata change replaces the object. */
  readonly stored: ValidationRuleMetadata;
  readonly spec: Spec;
}

type Behaviour = Rule | Trigger | RuleReference;

const KINDS: Record<string, (org: Org, spec: Spec) => Behaviour> = {
  validationRule,
  lookupFilter,
  approvalLock,
  trigger,
  duplicateRule,
  sharing,
  inactiveUserLookup,
  invalidUser,
  invalidUserObject,
  recordTypes,
  fieldTypeChange,
  rowLock,
  unknownException,
  recordError,
};

/**
 * The record types the API user's profile offers for an object, as an active `recordTypes`
 * behaviour narrows them, for describe to show what writes will accept.
 */
export function recordTypeAccess(org: Org, objectName: string): { available?: string[]; default: string | null } | undefined {
  for (const behaviour of states.get(org)?.behaviours.values() ?? []) {
    if (behaviour.kind !== 'recordTypes' || behaviour.spec.object !== objectName || behaviour.spec.active === false) continue;
    const available = behaviour.spec.available;
    return { available: available === undefined || available === null ? undefined : ([] as string[]).concat(available as string | string[]), default: (behaviour.spec.default as string | null | undefined) ?? null };
  }
  return undefined;
}

/** The kinds a spec may have, for error messages and documentation. */
export const BEHAVIOUR_KINDS: readonly string[] = Object.keys(KINDS);

const PHASES_BEFORE_TRIGGERS: Phase[] = ['contention', 'lock'];
const PHASES_AFTER_TRIGGERS: Phase[] = ['system', 'validation', 'duplicates'];

interface State {
  behaviours: Map<string, Behaviour>;
  stack: TriggerStack;
}

const states = new WeakMap<Org, State>();

/**
 * Hooks the behaviours, and the org's validation rules, into its write pipeline (once). Everything
 * that can add a validation rule calls it: an org whose rules were never enforced need not pay for
 * the hook on its writes.
 */
export function enableBehaviours(org: Org): void {
  stateOf(org);
}

function stateOf(org: Org): State {
  let state = states.get(org);
  if (!state) {
    const created: State = { behaviours: new Map(), stack: new TriggerStack() };
    org.addBehaviour({
      name: 'emulator-behaviours',
      validate: (ctx) => validate(ctx, created),
      afterSave: (ctx) => afterSave(ctx, created),
    });
    states.set(org, created);
    state = created;
  }
  return state;
}

function validate(ctx: WriteContext, state: State): SalesforceError[] | undefined {
  const selfReference = state.stack.selfReference(ctx);
  if (selfReference) return [selfReference];
  const all = [...state.behaviours.values()];
  const rules = all.filter((b): b is Rule => b.kind !== 'trigger' && !isReference(b));
  const phase = (p: Phase): SalesforceError[] => {
    const errors = rules.flatMap((r) => (r.phase === p ? (r.check(ctx) ?? []) : []));
    // Custom validation rules, wherever they were defined, are one set in the metadata store.
    if (p === 'validation') errors.push(...checkValidationRules(ctx));
    return errors;
  };
  for (const p of PHASES_BEFORE_TRIGGERS) {
    const errors = phase(p);
    if (errors.length) return errors;
  }
  for (const r of all) if (r.kind === 'trigger' && (r as Trigger).timing === 'before') (r as Trigger).fire(ctx, state.stack);
  for (const p of PHASES_AFTER_TRIGGERS) {
    const errors = phase(p);
    if (errors.length) return errors;
  }
  return undefined;
}

function afterSave(ctx: WriteContext, state: State): void {
  for (const r of [...state.behaviours.values()]) if (r.kind === 'trigger' && (r as Trigger).timing === 'after') (r as Trigger).fire(ctx, state.stack);
}

/**
 * Adds behaviours from specs (one object or a list), replacing any of the same name. Every spec is
 * checked before any is added, so a bad list changes nothing. Throws SpecError naming the field.
 */
export function addBehaviours(org: Org, specs: unknown): Spec[] {
  const list = Array.isArray(specs) ? specs : [specs];
  const parsed = list.map((raw, i) => {
    const prefix = Array.isArray(specs) ? `[${i}]` : '';
    try {
      return parseBehaviour(org, raw);
    } catch (error) {
      throw error instanceof SpecError ? error.under(prefix) : error;
    }
  });
  const names = new Set<string>();
  for (const [i, b] of parsed.entries()) {
    if (names.has(b.name)) throw new SpecError(Array.isArray(specs) ? `[${i}].name` : 'name', `Two behaviours are named "${b.name}".`);
    names.add(b.name);
  }
  const state = stateOf(org);
  const added: Behaviour[] = [];
  for (const b of parsed) {
    // Re-adding moves a behaviour to the end, as it was just defined.
    forget(org, state.behaviours.get(b.name));
    state.behaviours.delete(b.name);
    const behaviour = b.kind === 'validationRule' ? storeRule(org, b as ValidationRule) : b;
    state.behaviours.set(b.name, behaviour);
    added.push(behaviour);
  }
  return added.map((b) => listing(org, b)).filter((s): s is Spec => s !== undefined);
}

function isReference(b: Behaviour): b is RuleReference {
  return b.kind === 'validationRule';
}

/** Puts a validation rule behaviour into the org's rule store and returns the reference kept here. */
function storeRule(org: Org, rule: ValidationRule): RuleReference {
  const { object, fullName, ...rest } = rule.info;
  const stored = putValidationRule(org, {
    ...rest,
    object,
    fullName: fullName.slice(object.length + 1),
    ...(rule.description !== undefined ? { description: rule.description } : {}),
  });
  primeCompiledRule(org, stored, rule.expr);
  return { kind: 'validationRule', name: rule.name, object, stored, spec: rule.spec };
}

/** Removes what a behaviour put into the rule store when the behaviour goes. */
function forget(org: Org, b: Behaviour | undefined): void {
  if (b && isReference(b)) removeValidationRule(org, b.object, b.stored.fullName);
}

/** The current rule behind a reference: undefined once deleted through the Metadata API. */
function currentRule(org: Org, ref: RuleReference): ValidationRuleMetadata | undefined {
  return findValidationRule(org, ref.object, ref.stored.fullName);
}

function parseBehaviour(org: Org, raw: unknown): Behaviour {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('', 'A behaviour must be a JSON object with a "kind".');
  const spec = raw as Spec;
  const make = typeof spec.kind === 'string' ? KINDS[spec.kind] : undefined;
  if (!make) throw new SpecError('kind', `"kind" must be one of ${BEHAVIOUR_KINDS.join(', ')}.`);
  return make(org, spec);
}

/**
 * A behaviour as the admin API lists it. A validation rule changed through the Metadata API since
 * is listed as it is now (its formula text); one deleted there is not listed.
 */
function listing(org: Org, b: Behaviour): Spec | undefined {
  if (!isReference(b)) return { ...b.spec, kind: b.kind, name: b.name };
  const rule = currentRule(org, b);
  if (!rule) return undefined;
  if (rule === b.stored) return { ...b.spec, kind: b.kind, name: b.name };
  return {
    kind: b.kind,
    name: b.name,
    object: rule.object,
    formula: rule.errorConditionFormula,
    message: rule.errorMessage,
    ...(rule.errorDisplayField ? { errorField: rule.errorDisplayField } : {}),
    active: rule.active,
    ...(rule.description !== undefined ? { description: rule.description } : {}),
  };
}

/** The org's behaviours as the admin API lists them, in the order they run within a phase. */
export function listBehaviours(org: Org): Spec[] {
  return [...(states.get(org)?.behaviours.values() ?? [])].map((b) => listing(org, b)).filter((s): s is Spec => s !== undefined);
}

/** Removes a behaviour by name (a validation rule leaves the org's rules); false when there is none. */
export function removeBehaviour(org: Org, name: string): boolean {
  const state = states.get(org);
  const b = state?.behaviours.get(name);
  if (!state || !b || (isReference(b) && !currentRule(org, b))) {
    state?.behaviours.delete(name);
    return false;
  }
  forget(org, b);
  return state.behaviours.delete(name);
}

/**
 * Replaces the org's behaviours with saved specs (a state file), leaving the org's validation rules
 * as they are: the saved metadata put them back already, and the specs of validation rules
 * describe those same rules.
 */
export function restoreBehaviours(org: Org, specs: Spec[]): void {
  stateOf(org).behaviours.clear();
  addBehaviours(org, specs);
}

/** Removes every behaviour, and the validation rules added as behaviours. */
export function clearBehaviours(org: Org): void {
  const state = states.get(org);
  if (!state) return;
  for (const b of state.behaviours.values()) forget(org, b);
  state.behaviours.clear();
}

/**
 * The validation rules added as behaviours, as the Metadata API describes them
 * (`ValidationRule`): `fullName` is `Object.RuleName`, `errorConditionFormula` formula text (JSON
 * conditions are rendered as the equivalent formula), `errorDisplayField` absent for a record-level
 * error. Every rule of the org, however defined, is in `validationRules(org)` (emulator/metadata).
 */
export function listValidationRules(org: Org): ValidationRuleInfo[] {
  const out: ValidationRuleInfo[] = [];
  for (const b of states.get(org)?.behaviours.values() ?? []) {
    if (!isReference(b)) continue;
    const rule = currentRule(org, b);
    if (!rule) continue;
    const info: ValidationRuleInfo = {
      object: rule.object,
      fullName: `${rule.object}.${rule.fullName}`,
      active: rule.active,
      errorConditionFormula: rule.errorConditionFormula,
      errorMessage: rule.errorMessage,
    };
    if (rule.errorDisplayField) info.errorDisplayField = rule.errorDisplayField;
    out.push(info);
  }
  return out;
}
