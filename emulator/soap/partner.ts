/**
 * Partner API calls (`urn:partner.soap.sforce.com`): undelete and emptyRecycleBin, which REST
 * has no equivalent for, plus the session calls SOAP clients make around them (login, logout,
 * getUserInfo, getServerTimestamp). Per-record results carry Salesforce's status codes and never
 * fail the whole call.
 */
import type { Org } from '../org/org.ts';
import { RecordWriteError, SalesforceError } from '../org/errors.ts';
import { toId18 } from '../org/ids.ts';
import type { StoredRecord } from '../org/schema.ts';
import type { EmulatorContext, Session } from '../server/context.ts';
import { node, record } from '../metadata/xml.ts';
import type { XmlNode, XmlRecord } from '../metadata/xml.ts';
import { listOf, SoapFault, textOf } from './envelope.ts';
import type { SoapRequest } from './envelope.ts';

/** Records per undelete or emptyRecycleBin call. */
const ID_LIMIT = 200;
/** A security token appended to a password: 24 or 25 letters and digits. */
const SECURITY_TOKEN = /^[A-Za-z0-9]{24,25}$/;

export interface PartnerCall {
  ctx: EmulatorContext;
  session: Session;
  request: SoapRequest;
  apiVersion: string;
}

type ResultError = { fields?: string[]; message: string; statusCode: string };

function result(id: string | null, errors: ResultError[]): XmlNode {
  // Error elements follow the WSDL's order: fields, message, statusCode.
  const errorNodes = errors.map((e) => node('errors', record({ fields: e.fields?.length ? e.fields : undefined, message: e.message, statusCode: e.statusCode }, [])));
  return node('result', [...errorNodes, node('id', id), node('success', errors.length === 0)]);
}

function errorsOf(error: unknown): ResultError[] {
  if (error instanceof RecordWriteError) return error.errors.map((e) => ({ fields: e.fields, message: e.message, statusCode: e.errorCode }));
  if (error instanceof SalesforceError) return [{ fields: error.fields, message: error.message, statusCode: error.errorCode }];
  throw error;
}

function idsOf(call: PartnerCall, operation: string): string[] {
  const ids = listOf(call.request.args.ids).map((v) => (typeof v === 'string' ? v : ''));
  if (ids.length > ID_LIMIT) throw new SoapFault('EXCEEDED_ID_LIMIT', `${operation} id limit reached: ${ID_LIMIT}`);
  return ids;
}

/**
 * undelete(): records in the Recycle Bin come back with the records deleted in their cascade. An
 * object describe calls not undeletable is refused as a whole; a record whose cascade parent is
 * still deleted cannot come back on its own.
 */
export function undelete(call: PartnerCall): XmlNode[] {
  const org = call.ctx.org;
  return idsOf(call, 'undelete').map((raw) => {
    const id = toId18(raw);
    if (!id) return result(null, [{ message: `malformed id ${raw}`, statusCode: 'MALFORMED_ID' }]);
    const object = org.schema.objectForId(id);
    if (!object || !org.visibleSchema.object(object.name)) return result(id, [{ message: 'invalid cross reference id', statusCode: 'INVALID_CROSS_REFERENCE_KEY' }]);
    if (!object.def.undeletable) return result(id, [{ message: `${object.def.label} cannot be undeleted`, statusCode: 'UNDELETE_FAILED' }]);
    const record = org.get(id);
    const orphaned = record?.IsDeleted ? deletedCascadeParent(org, record) : undefined;
    if (orphaned) return result(id, [{ fields: [orphaned], message: 'entity is deleted', statusCode: 'ENTITY_IS_DELETED' }]);
    try {
      org.undelete(id, { userId: call.session.userId });
      return result(id, []);
    } catch (error) {
      return result(id, errorsOf(error));
    }
  });
}

/**
 * The lookup through which a record was cascade-deleted, when its parent is still deleted. (The
 * org refuses master-detail children itself; a cascading lookup such as Contact.AccountId would
 * otherwise come back pointing at a deleted account.)
 */
function deletedCascadeParent(org: Org, record: StoredRecord): string | undefined {
  const object = org.schema.objectForId(record.Id)!;
  for (const field of object.def.fields) {
    if (!field.cascadeDelete || field.relationshipOrder !== undefined) continue;
    const parentId = record[field.name];
    if (typeof parentId === 'string' && org.get(parentId)?.IsDeleted) return field.name;
  }
  return undefined;
}

/** emptyRecycleBin(): purges records, and the records deleted in their cascade, for good. */
export function emptyRecycleBin(call: PartnerCall): XmlNode[] {
  const org = call.ctx.org;
  return idsOf(call, 'emptyRecycleBin').map((raw) => {
    const id = toId18(raw);
    if (!id) return result(null, [{ message: `malformed id ${raw}`, statusCode: 'MALFORMED_ID' }]);
    if (!org.isInRecycleBin(id)) return result(id, [{ message: 'Entity is not in the recycle bin', statusCode: 'INVALID_ID_FIELD' }]);
    purgeWithCascade(org, id);
    return result(id, []);
  });
}

function purgeWithCascade(org: Org, id: string): void {
  const object = org.schema.objectForId(id);
  org.purge(id);
  if (!object) return;
  for (const child of org.schema.objects()) {
    const fields = child.def.fields.filter((f) => f.cascadeDelete && f.referenceTo?.some((t) => t.toLowerCase() === object.name.toLowerCase()));
    if (!fields.length) continue;
    const orphans = [...org.records(child.name)].filter((r) => r.IsDeleted && fields.some((f) => r[f.name] === id)).map((r) => r.Id);
    for (const orphan of orphans) if (org.isInRecycleBin(orphan)) purgeWithCascade(org, orphan);
  }
}

function userInfo(ctx: EmulatorContext, session: Session): XmlRecord {
  const org = ctx.org;
  const user = org.get(session.userId) ?? ({ Id: session.userId } as StoredRecord);
  const name = [user.FirstName, user.LastName].filter((p) => typeof p === 'string' && p).join(' ');
  const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
  // Elements in the WSDL's (alphabetical) order.
  return {
    accessibilityMode: false,
    chatterExternal: false,
    currencySymbol: '$',
    orgAttachmentFileSizeLimit: 5_242_880,
    orgDefaultCurrencyIsoCode: 'USD',
    orgDefaultCurrencyLocale: 'en_US',
    orgDisallowHtmlAttachments: false,
    orgHasPersonAccounts: false,
    organizationId: org.orgId,
    organizationMultiCurrency: false,
    organizationName: org.orgName,
    profileId: str(user.ProfileId),
    roleId: null,
    sessionSecondsValid: org.settings.sessionTimeoutSeconds,
    userDefaultCurrencyIsoCode: null,
    userEmail: str(user.Email),
    userFullName: name,
    userId: user.Id,
    userLanguage: str(user.LanguageLocaleKey, 'en_US'),
    userLocale: str(user.LocaleSidKey, 'en_US'),
    userName: str(user.Username),
    userTimeZone: str(user.TimeZoneSidKey, 'America/Los_Angeles'),
    userType: str(user.UserType, 'Standard'),
    userUiSkin: 'Theme3',
  };
}

export function getUserInfo(call: PartnerCall): XmlNode[] {
  return [node('result', record(userInfo(call.ctx, call.session), []))];
}

export function getServerTimestamp(call: PartnerCall): XmlNode[] {
  return [node('result', [node('timestamp', call.ctx.org.clock.now().toISOString())])];
}

export function logout(call: PartnerCall): XmlNode[] {
  call.ctx.sessions.revoke(call.session.accessToken);
  return [];
}

const loginFailure = (): SoapFault => new SoapFault('INVALID_LOGIN', 'Invalid username, password, security token; or user locked out.', 'api', 'LoginFault');

/** login(): username and password (optionally followed by the security token) open a session. */
export function login(ctx: EmulatorContext, request: SoapRequest, apiVersion: string): XmlNode[] {
  const username = textOf(request.args.username) ?? '';
  const password = textOf(request.args.password) ?? '';
  const org = ctx.org;
  const wanted = username.toLowerCase();
  const user = [...org.records('User')].find((u) => typeof u.Username === 'string' && u.Username.toLowerCase() === wanted);
  const stored = [...org.credentials].find(([name]) => name.toLowerCase() === wanted)?.[1];
  const matches = stored !== undefined && (password === stored || (password.startsWith(stored) && SECURITY_TOKEN.test(password.slice(stored.length))));
  if (!user || !matches || user.IsActive === false) throw loginFailure();
  const session = ctx.sessions.issue(user.Id, 'SOAP Partner API');
  const base = ctx.instanceUrl();
  const org15 = org.orgId.slice(0, 15);
  return [
    node(
      'result',
      record(
        {
          metadataServerUrl: `${base}/services/Soap/m/${apiVersion}/${org15}`,
          passwordExpired: false,
          sandbox: false,
          serverUrl: `${base}/services/Soap/u/${apiVersion}/${org15}`,
          sessionId: session.accessToken,
          userId: user.Id,
          userInfo: userInfo(ctx, session),
        },
        [],
      ),
    ),
  ];
}
