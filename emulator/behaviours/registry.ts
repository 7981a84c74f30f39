/**
 * The behaviours configured on each org, and the one write behaviour that runs them in
 * Salesforce's order of execution. Configuration lives here, per org, not in the org's state: a
 * reseed or reset changes the data, not the org's automation.
 */
import type { SalesforceError } from '../org/errors.ts';
import type { Org, WriteContext } from '../org/org.ts';
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

type Behaviour = Rule | Trigger;

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

/** The kinds a spec may have, for error messages and documentation. */
export const BEHAVIOUR_KINDS: readonly string[] = Object.keys(KINDS);

const PHASES_BEFORE_TRIGGERS: Phase[] = ['contention', 'lock'];
const PHASES_AFTER_TRIGGERS: Phase[] = ['system', 'validation', 'duplicates'];

interface State {
  behaviours: Map<string, Behaviour>;
  stack: TriggerStack;
}

const states = new WeakMap<Org, State>();

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
  const rules = [...state.behaviours.values()];
  const phase = (p: Phase): SalesforceError[] => rules.flatMap((r) => (r.kind !== 'trigger' && (r as Rule).phase === p ? ((r as Rule).check(ctx) ?? []) : []));
  for (const p of PHASES_BEFORE_TRIGGERS) {
    const errors = phase(p);
    if (errors.length) return errors;
  }
  for (const r of rules) if (r.kind === 'trigger' && (r as Trigger).timing === 'before') (r as Trigger).fire(ctx, state.stack);
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
  for (const b of parsed) {
    // Re-adding moves a behaviour to the end, as it was just defined.
    state.behaviours.delete(b.name);
    state.behaviours.set(b.name, b);
  }
  return parsed.map((b) => listing(b));
}

function parseBehaviour(org: Org, raw: unknown): Behaviour {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('', 'A behaviour must be a JSON object with a "kind".');
  const spec = raw as Spec;
  const make = typeof spec.kind === 'string' ? KINDS[spec.kind] : undefined;
  if (!make) throw new SpecError('kind', `"kind" must be one of ${BEHAVIOUR_KINDS.join(', ')}.`);
  return make(org, spec);
}

function listing(b: Behaviour): Spec {
  return { ...b.spec, kind: b.kind, name: b.name };
}

/** The org's behaviours as the admin API lists them, in the order they run within a phase. */
export function listBehaviours(org: Org): Spec[] {
  return [...(states.get(org)?.behaviours.values() ?? [])].map(listing);
}

/** Removes a behaviour by name; false when there is none. */
export function removeBehaviour(org: Org, name: string): boolean {
  return states.get(org)?.behaviours.delete(name) ?? false;
}

export function clearBehaviours(org: Org): void {
  states.get(org)?.behaviours.clear();
}

/**
 * The org's validation rules as the Metadata API describes them (`ValidationRule`): `fullName` is
 * `Object.RuleName`, `errorConditionFormula` formula text (JSON conditions are rendered as the
 * equivalent formula), `errorDisplayField` absent for a record-level error.
 */
export function listValidationRules(org: Org): ValidationRuleInfo[] {
  return [...(states.get(org)?.behaviours.values() ?? [])]
    .filter((b): b is ValidationRule => b.kind === 'validationRule')
    .map((b) => ({ ...b.info }));
}
