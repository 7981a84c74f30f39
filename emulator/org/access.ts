import { Schema } from './schema.ts';
import type { ObjectDef } from './schema.ts';

/** User permissions that change what the API user sees or may write. */
export interface UserPermissions {
  apiEnabled: boolean;
  viewAllData: boolean;
  modifyAllData: boolean;
  queryAllFiles: boolean;
  viewEncryptedData: boolean;
  /** The org setting "Set Audit Fields upon Record Creation" granted to this user. */
  setAuditFields: boolean;
}

export const defaultPermissions = (): UserPermissions => ({
  apiEnabled: true,
  viewAllData: true,
  modifyAllData: true,
  queryAllFiles: true,
  viewEncryptedData: false,
  setAuditFields: false,
});

/**
 * Object and field permissions of the API user. What it cannot read is absent from its view of
 * the schema, so describe, SOQL and writes all fail the way Salesforce does without special cases.
 */
export class AccessControl {
  readonly permissions: UserPermissions = defaultPermissions();
  private readonly hiddenObjects = new Set<string>();
  private readonly hiddenFields = new Map<string, Set<string>>();
  private readonly readOnlyObjects = new Set<string>();
  private cachedView: Schema | undefined;
  private cachedFrom: Schema | undefined;
  private changes = 0;

  setObjectRead(object: string, read: boolean): void {
    const key = object.toLowerCase();
    if (read) this.hiddenObjects.delete(key);
    else this.hiddenObjects.add(key);
    this.invalidate();
  }

  /** Create and edit permission on an object (read stays). */
  setObjectWrite(object: string, write: boolean): void {
    const key = object.toLowerCase();
    if (write) this.readOnlyObjects.delete(key);
    else this.readOnlyObjects.add(key);
    this.invalidate();
  }

  setFieldRead(object: string, field: string, read: boolean): void {
    const key = object.toLowerCase();
    const set = this.hiddenFields.get(key) ?? new Set<string>();
    if (read) set.delete(field.toLowerCase());
    else set.add(field.toLowerCase());
    this.hiddenFields.set(key, set);
    this.invalidate();
  }

  setPermission(name: keyof UserPermissions, value: boolean): void {
    this.permissions[name] = value;
    this.invalidate();
  }

  canReadObject(object: string): boolean {
    return !this.hiddenObjects.has(object.toLowerCase());
  }

  canReadField(object: string, field: string): boolean {
    return !this.hiddenFields.get(object.toLowerCase())?.has(field.toLowerCase());
  }

  /** The schema as the API user sees it. Rebuilt only when permissions or the schema change. */
  view(full: Schema, schemaVersion: number): Schema {
    if (this.cachedView && this.cachedFrom === full && this.cachedVersion === schemaVersion) return this.cachedView;
    const defs: ObjectDef[] = [];
    for (const object of full.objects()) {
      if (!this.canReadObject(object.name)) continue;
      const writable = !this.readOnlyObjects.has(object.name.toLowerCase());
      defs.push({
        ...object.def,
        createable: object.def.createable && writable,
        updateable: object.def.updateable && writable,
        deletable: object.def.deletable && writable,
        fields: object.def.fields
          .filter((f) => this.canReadField(object.name, f.name))
          .map((f) => {
            const audit = f.audit && this.permissions.setAuditFields;
            return audit ? { ...f, createable: true } : f;
          }),
      });
    }
    this.cachedView = new Schema(defs);
    this.cachedFrom = full;
    this.cachedVersion = schemaVersion;
    return this.cachedView;
  }

  private cachedVersion = -1;

  exportState(): { permissions: UserPermissions; hiddenObjects: string[]; hiddenFields: Record<string, string[]>; readOnlyObjects: string[] } {
    return {
      permissions: { ...this.permissions },
      hiddenObjects: [...this.hiddenObjects],
      hiddenFields: Object.fromEntries([...this.hiddenFields].map(([k, v]) => [k, [...v]])),
      readOnlyObjects: [...this.readOnlyObjects],
    };
  }

  importState(state: ReturnType<AccessControl['exportState']>): void {
    Object.assign(this.permissions, state.permissions);
    this.hiddenObjects.clear();
    for (const o of state.hiddenObjects) this.hiddenObjects.add(o);
    this.hiddenFields.clear();
    for (const [k, v] of Object.entries(state.hiddenFields)) this.hiddenFields.set(k, new Set(v));
    this.readOnlyObjects.clear();
    for (const o of state.readOnlyObjects) this.readOnlyObjects.add(o);
    this.invalidate();
  }

  /** Changes with every change of permissions, so that work derived from them can be checked. */
  get revision(): number {
    return this.changes;
  }

  private invalidate(): void {
    this.cachedView = undefined;
    this.changes++;
  }
}
