/**
 * What every org has, whatever the profile: the Organization record, profiles, users (the API
 * user, a team, former employees), queues, record types, the standard price book and the
 * connected app. None of it depends on the seed, so the API user's ID, the credentials and the
 * connected app's client ID are the same for every profile and seed: a test can reseed without
 * logging in again.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Org } from '../org/org.ts';
import { formatDatetime } from '../org/values.ts';
import { DAY_MS, HISTORY_DAYS } from './context.ts';
import type { SeedContext, SeedUsers } from './context.ts';
import { Random } from './random.ts';

/** The API user's login. */
export const API_USERNAME = 'admin@orgvault-emulator.example';
/** The API user's password, as the username-password OAuth flow expects it. */
export const API_PASSWORD = 'Emulator-Passw0rd!';
const EMAIL_DOMAIN = 'orgvault-emulator.example';

type Team = 'api' | 'admin' | 'sales' | 'support' | 'marketing' | 'finance';

interface UserSeed {
  first: string;
  last: string;
  title: string;
  department: string;
  profile: string;
  team: Team;
  /** Days before the org's start time the user left, for former employees. */
  leftDaysAgo?: number;
  timeZone: string;
  locale: string;
  city: string;
  manager?: number;
}

const PROFILES: readonly { name: string; description: string; admin: boolean; api: boolean }[] = [
  { name: 'System Administrator', description: 'Full access to setup and all data.', admin: true, api: true },
  { name: 'Standard User', description: 'Create and edit most records; no setup.', admin: false, api: true },
  { name: 'Marketing User', description: 'Standard User plus campaigns and lead imports.', admin: false, api: true },
  { name: 'Read Only', description: 'View records; no edits.', admin: false, api: false },
  { name: 'Contract Manager', description: 'Standard User plus contracts.', admin: false, api: true },
  { name: 'Minimum Access - Salesforce', description: 'Login only; access granted by permission sets.', admin: false, api: false },
  { name: 'Salesforce API Only System Integrations', description: 'Integration users: API access only.', admin: false, api: true },
];

const USERS: readonly UserSeed[] = [
  { first: 'Integration', last: 'API', title: 'Integration User', department: 'IT', profile: 'System Administrator', team: 'api', timeZone: 'America/Los_Angeles', locale: 'en_US', city: 'San Francisco' },
  { first: 'Dana', last: 'Whitfield', title: 'Salesforce Administrator', department: 'IT', profile: 'System Administrator', team: 'admin', timeZone: 'America/Los_Angeles', locale: 'en_US', city: 'San Francisco' },
  { first: 'Aisha', last: 'Okafor', title: 'VP Sales', department: 'Sales', profile: 'Standard User', team: 'sales', timeZone: 'America/Chicago', locale: 'en_US', city: 'Chicago' },
  { first: 'Marcus', last: 'Chen', title: 'Account Executive', department: 'Sales', profile: 'Standard User', team: 'sales', timeZone: 'America/Los_Angeles', locale: 'en_US', city: 'San Francisco', manager: 2 },
  { first: 'Priya', last: 'Raman', title: 'Account Executive', department: 'Sales', profile: 'Standard User', team: 'sales', timeZone: 'America/New_York', locale: 'en_US', city: 'Boston', manager: 2 },
  { first: 'Elena', last: 'Rossi', title: 'Senior Account Executive', department: 'Sales', profile: 'Standard User', team: 'sales', timeZone: 'Europe/Berlin', locale: 'de_DE', city: 'Munich', manager: 2 },
  { first: 'Tom', last: 'Becker', title: 'Sales Development Representative', department: 'Sales', profile: 'Standard User', team: 'sales', timeZone: 'America/Chicago', locale: 'en_US', city: 'Chicago', manager: 2 },
  { first: 'Luis', last: 'Ortega', title: 'Support Engineer', department: 'Customer Success', profile: 'Standard User', team: 'support', timeZone: 'America/Denver', locale: 'en_US', city: 'Denver' },
  { first: 'Hannah', last: 'Schmidt', title: 'Support Engineer', department: 'Customer Success', profile: 'Standard User', team: 'support', timeZone: 'Europe/London', locale: 'en_GB', city: 'London' },
  { first: 'Nina', last: 'Park', title: 'Marketing Manager', department: 'Marketing', profile: 'Marketing User', team: 'marketing', timeZone: 'America/New_York', locale: 'en_US', city: 'New York' },
  { first: 'Greg', last: 'Holloway', title: 'Account Executive', department: 'Sales', profile: 'Standard User', team: 'sales', leftDaysAgo: 120, timeZone: 'America/New_York', locale: 'en_US', city: 'New York', manager: 2 },
  { first: 'Sam', last: 'Kowalski', title: 'Support Engineer', department: 'Customer Success', profile: 'Standard User', team: 'support', leftDaysAgo: 300, timeZone: 'America/Chicago', locale: 'en_US', city: 'Chicago' },
  { first: 'Ravi', last: 'Menon', title: 'Finance Analyst', department: 'Finance', profile: 'Read Only', team: 'finance', timeZone: 'America/Los_Angeles', locale: 'en_US', city: 'San Francisco' },
];

/** The queues that own unassigned leads and cases. */
export const QUEUES = { leads: 'Inbound Leads', support: 'Support Queue' } as const;

let keyPair: { publicKey: string; privateKey: string } | undefined;

/**
 * Loads the base records and returns the users. Times are fixed offsets from `ctx.nowMs`: the org
 * was signed up a year before the seeded history starts.
 */
export function seedBase(ctx: SeedContext): SeedUsers {
  const org = ctx.org;
  const signupMs = ctx.nowMs - (HISTORY_DAYS + 365) * DAY_MS;
  const userIds = USERS.map(() => org.ids.next('005'));
  const apiUserId = userIds[0]!;
  org.apiUserId = apiUserId;
  const load = (object: string, values: Record<string, unknown>, createdMs: number, modMs = createdMs, by = apiUserId): string | undefined => {
    const shape = ctx.shape(object);
    if (!shape) return undefined;
    return ctx.load(shape, values, by, by, createdMs, by, modMs, modMs);
  };

  load('Organization', {
    Id: org.orgId,
    Name: org.orgName,
    Division: 'Headquarters',
    Street: '415 Mission St', City: 'San Francisco', State: 'CA', PostalCode: '94105', Country: 'United States',
    Phone: '(415) 555-0100', PrimaryContact: 'Dana Whitfield',
    DefaultLocaleSidKey: 'en_US', TimeZoneSidKey: 'America/Los_Angeles', LanguageLocaleKey: 'en_US',
    FiscalYearStartMonth: 1,
    DefaultAccountAccess: 'Read', DefaultContactAccess: 'ControlledByParent', DefaultOpportunityAccess: 'None',
    DefaultLeadAccess: 'ReadEditTransfer', DefaultCaseAccess: 'ReadEditTransfer', DefaultCalendarAccess: 'HideDetailsInsert',
    DefaultPricebookAccess: 'ReadSelect', DefaultCampaignAccess: 'All',
    UiSkin: 'Theme3', SignupCountryIsoCode: 'US', OrganizationType: 'Enterprise Edition', InstanceName: 'NA224',
    MonthlyPageViewsUsed: 0, MonthlyPageViewsEntitlement: 0, NumKnowledgeService: 0,
  }, signupMs, signupMs + DAY_MS);

  const profileIds = new Map<string, string>();
  for (const [i, p] of PROFILES.entries()) {
    const id = load('Profile', {
      Name: p.name,
      Description: p.description,
      UserType: 'Standard',
      PermissionsApiEnabled: p.api,
      PermissionsModifyAllData: p.admin,
      PermissionsViewAllData: p.admin || p.name === 'Read Only',
      PermissionsManageUsers: p.admin,
      PermissionsCustomizeApplication: p.admin,
      PermissionsAuthorApex: p.admin,
      PermissionsViewSetup: p.admin,
      PermissionsEmailSingle: p.name !== 'Read Only' && !p.name.startsWith('Salesforce API'),
      PermissionsRunReports: !p.name.startsWith('Salesforce API'),
      PermissionsExportReport: p.admin,
      PermissionsViewEncryptedData: false,
    }, signupMs + i * 1000);
    if (id) profileIds.set(p.name, id);
  }

  const userShape = ctx.shape('User');
  const inactive: SeedUsers['inactive'] = [];
  for (const [i, u] of USERS.entries()) {
    const createdMs = signupMs + (i === 0 ? 0 : 2 * DAY_MS + i * 17 * DAY_MS);
    const leftMs = u.leftDaysAgo === undefined ? undefined : ctx.nowMs - u.leftDaysAgo * DAY_MS;
    const modMs = leftMs ?? createdMs + 3 * DAY_MS;
    const username = i === 0 ? API_USERNAME : `${u.first}.${u.last}@${EMAIL_DOMAIN}`.toLowerCase();
    if (leftMs !== undefined) inactive.push({ id: userIds[i]!, deactivatedMs: leftMs, team: u.team === 'support' ? 'support' : 'sales' });
    if (!userShape) continue;
    ctx.load(userShape, {
      Id: userIds[i],
      Username: username,
      FirstName: u.first,
      LastName: u.last,
      CompanyName: org.orgName,
      Department: u.department,
      Title: u.title,
      City: u.city,
      Email: i === 0 ? `integration@${EMAIL_DOMAIN}` : username,
      Phone: i === 0 ? null : `(415) 555-01${String(10 + i).padStart(2, '0')}`,
      Alias: (u.first.slice(0, 1) + u.last.slice(0, 4)).toLowerCase(),
      CommunityNickname: `${u.first}.${u.last}`.toLowerCase(),
      IsActive: leftMs === undefined,
      TimeZoneSidKey: u.timeZone,
      LocaleSidKey: u.locale,
      LanguageLocaleKey: u.locale.startsWith('de') ? 'de' : u.locale === 'en_GB' ? 'en_GB' : 'en_US',
      EmailEncodingKey: 'UTF-8',
      ProfileId: profileIds.get(u.profile) ?? null,
      UserType: 'Standard',
      EmployeeNumber: i === 0 ? null : `E-${1000 + i}`,
      ManagerId: u.manager === undefined ? null : userIds[u.manager],
      ReceivesInfoEmails: u.team === 'admin',
      ReceivesAdminInfoEmails: u.team === 'admin',
      LastLoginDate: leftMs === undefined ? formatDatetime(ctx.nowMs - (i + 1) * 3_600_000) : formatDatetime(leftMs - DAY_MS),
      LastPasswordChangeDate: formatDatetime(createdMs + DAY_MS),
    }, null, apiUserId, createdMs, i === 0 ? apiUserId : userIds[1]!, modMs, modMs);
  }

  for (const [i, name] of [QUEUES.leads, QUEUES.support].entries()) {
    load('Group', {
      Name: name,
      DeveloperName: name.replace(/\s+/g, '_'),
      Type: 'Queue',
      Email: `${name.toLowerCase().replace(/\s+/g, '-')}@${EMAIL_DOMAIN}`,
      OwnerId: userIds[1],
      DoesSendEmailToMembers: true,
    }, signupMs + (5 + i) * DAY_MS, signupMs + (5 + i) * DAY_MS, userIds[1]);
  }

  let rtIndex = 0;
  for (const object of org.schema.objects()) {
    for (const rt of object.def.recordTypes ?? []) {
      if (rt.master) continue;
      load('RecordType', {
        Id: rt.id,
        Name: rt.name,
        DeveloperName: rt.developerName,
        SobjectType: object.name,
        IsActive: rt.active,
        Description: `${rt.name} records`,
      }, signupMs + 10 * DAY_MS + rtIndex * 60_000, signupMs + 10 * DAY_MS + rtIndex++ * 60_000, userIds[1]);
    }
  }

  load('Pricebook2', {
    Name: 'Standard Price Book',
    IsActive: true,
    IsStandard: true,
    Description: 'Standard list prices',
  }, signupMs + 12 * DAY_MS);

  org.credentials.set(API_USERNAME, API_PASSWORD);
  org.connectedApp = connectedApp();

  const team = (t: Team): string[] => USERS.flatMap((u, i) => (u.team === t && u.leftDaysAgo === undefined ? [userIds[i]!] : []));
  return {
    apiUserId,
    adminIds: team('admin'),
    salesIds: team('sales'),
    supportIds: team('support'),
    marketingIds: team('marketing'),
    inactive,
    allIds: userIds,
  };
}

/** The IDs of the queues (Group records), by name; empty when the catalog has no Group. */
export function queueIds(org: Org): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of org.records('Group')) if (g.Type === 'Queue') out.set(String(g.Name), g.Id);
  return out;
}

/**
 * The connected app the API user logs in through. Client ID and secret are derived from a fixed
 * seed (the same for every org); the RSA key pair cannot be derived, so it is made once per
 * process and shared by every org the process builds.
 */
function connectedApp(): NonNullable<Org['connectedApp']> {
  const rng = new Random('orgvault-emulator-connected-app');
  const keyChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let clientId = '3MVG9';
  while (clientId.length < 85) {
    // Real consumer keys carry the odd '.' or '_' between runs of letters and digits.
    const c = rng.chance(0.03) && clientId.length < 84 ? rng.pick(['.', '_']) : keyChars[rng.int(keyChars.length)]!;
    clientId += c;
  }
  let clientSecret = '';
  while (clientSecret.length < 64) clientSecret += '0123456789ABCDEF'[rng.int(16)];
  keyPair ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { clientId, clientSecret, certificatePem: keyPair.publicKey, privateKeyPem: keyPair.privateKey };
}

