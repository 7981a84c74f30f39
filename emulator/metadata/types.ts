/**
 * The metadata types `describeMetadata` reports, with the directory, suffix and flags that say
 * where a retrieve puts their files. The emulator generates components for the types in
 * IMPLEMENTED; the others are real types an org of this shape has, listed so that a client
 * walking describeMetadata sees a plausible catalog, and they list no components.
 */

export interface MetadataTypeInfo {
  xmlName: string;
  directoryName: string;
  suffix: string | null;
  inFolder: boolean;
  metaFile: boolean;
  childXmlNames: string[];
}

const type = (xmlName: string, directoryName: string, suffix: string | null, o: Partial<MetadataTypeInfo> = {}): MetadataTypeInfo => ({
  xmlName,
  directoryName,
  suffix,
  inFolder: false,
  metaFile: false,
  childXmlNames: [],
  ...o,
});

/** In the order a real org's describeMetadata happens to list them. */
export const METADATA_TYPES: readonly MetadataTypeInfo[] = [
  type('InstalledPackage', 'installedPackages', 'installedPackage'),
  type('CustomLabels', 'labels', 'labels', { childXmlNames: ['CustomLabel'] }),
  type('StaticResource', 'staticresources', 'resource', { metaFile: true }),
  type('Scontrol', 'scontrols', 'scf', { metaFile: true }),
  type('Certificate', 'certs', 'crt', { metaFile: true }),
  type('LightningComponentBundle', 'lwc', null),
  type('AuraDefinitionBundle', 'aura', null),
  type('ApexComponent', 'components', 'component', { metaFile: true }),
  type('ApexPage', 'pages', 'page', { metaFile: true }),
  type('Queue', 'queues', 'queue'),
  type('CustomMetadata', 'customMetadata', 'md'),
  type('CustomObject', 'objects', 'object', {
    childXmlNames: ['CustomField', 'Index', 'BusinessProcess', 'CompactLayout', 'RecordType', 'WebLink', 'ValidationRule', 'SharingReason', 'ListView', 'FieldSet'],
  }),
  type('ReportType', 'reportTypes', 'reportType'),
  type('Report', 'reports', 'report', { inFolder: true }),
  type('Dashboard', 'dashboards', 'dashboard', { inFolder: true }),
  type('Layout', 'layouts', 'layout'),
  type('Document', 'documents', null, { inFolder: true, metaFile: true }),
  type('CustomPageWebLink', 'weblinks', 'weblink'),
  type('QuickAction', 'quickActions', 'quickAction'),
  type('FlexiPage', 'flexipages', 'flexipage'),
  type('CustomTab', 'tabs', 'tab'),
  type('CustomApplication', 'applications', 'app'),
  type('EmailTemplate', 'email', 'email', { inFolder: true, metaFile: true }),
  type('Workflow', 'workflows', 'workflow', {
    childXmlNames: ['WorkflowFieldUpdate', 'WorkflowKnowledgePublish', 'WorkflowTask', 'WorkflowAlert', 'WorkflowSend', 'WorkflowOutboundMessage', 'WorkflowRule'],
  }),
  type('AssignmentRules', 'assignmentRules', 'assignmentRules', { childXmlNames: ['AssignmentRule'] }),
  type('ApexClass', 'classes', 'cls', { metaFile: true }),
  type('ApexTrigger', 'triggers', 'trigger', { metaFile: true }),
  type('Profile', 'profiles', 'profile'),
  type('PermissionSet', 'permissionsets', 'permissionset'),
  type('PermissionSetGroup', 'permissionsetgroups', 'permissionsetgroup'),
  type('CustomPermission', 'customPermissions', 'customPermission'),
  type('Role', 'roles', 'role'),
  type('Group', 'groups', 'group'),
  type('GlobalValueSet', 'globalValueSets', 'globalValueSet'),
  type('StandardValueSet', 'standardValueSets', 'standardValueSet'),
  type('RemoteSiteSetting', 'remoteSiteSettings', 'remoteSite'),
  type('NamedCredential', 'namedCredentials', 'namedCredential'),
  type('ConnectedApp', 'connectedApps', 'connectedApp'),
  type('Flow', 'flows', 'flow'),
  type('FlowDefinition', 'flowDefinitions', 'flowDefinition'),
  type('DuplicateRule', 'duplicateRules', 'duplicateRule'),
  type('MatchingRules', 'matchingRules', 'matchingRule', { childXmlNames: ['MatchingRule'] }),
  type('ApprovalProcess', 'approvalProcesses', 'approvalProcess'),
  type('SharingRules', 'sharingRules', 'sharingRules', { childXmlNames: ['SharingOwnerRule', 'SharingCriteriaRule', 'SharingGuestRule'] }),
  type('Settings', 'settings', 'settings'),
];

/** Child types: listed and retrieved on their own, stored inside their parent's file. */
export const CHILD_TYPES: Record<string, string> = {
  CustomField: 'CustomObject',
  ValidationRule: 'CustomObject',
  RecordType: 'CustomObject',
};

/**
 * Folder types: not in describeMetadata (its in-folder types say `inFolder`), but listed,
 * read and retrieved by these names, each holding components of its content type.
 * EmailTemplateFolder holds Lightning email templates, which the emulator has none of.
 */
export const FOLDER_TYPES: Readonly<Record<string, string>> = {
  ReportFolder: 'Report',
  DashboardFolder: 'Dashboard',
  DocumentFolder: 'Document',
  EmailFolder: 'EmailTemplate',
  EmailTemplateFolder: 'EmailTemplate',
};

/** Types whose components the emulator generates from the org. */
export const IMPLEMENTED = [
  'CustomObject',
  'CustomField',
  'ValidationRule',
  'RecordType',
  'Layout',
  'Profile',
  'PermissionSet',
  'ApexClass',
  'ApexTrigger',
  'Flow',
  'ReportFolder',
  'Report',
  'DashboardFolder',
  'Dashboard',
  'DocumentFolder',
  'Document',
  'EmailFolder',
  'EmailTemplate',
] as const;
export type ImplementedType = (typeof IMPLEMENTED)[number];

/** The emulator's folder type of each in-folder type. */
export const FOLDER_TYPE_OF = { Report: 'ReportFolder', Dashboard: 'DashboardFolder', Document: 'DocumentFolder', EmailTemplate: 'EmailFolder' } as const;

/** A type name listMetadata, readMetadata and retrieve accept: a described type, a child of one or a folder type. */
export function knownType(name: string): boolean {
  return name in CHILD_TYPES || name in FOLDER_TYPES || METADATA_TYPES.some((t) => t.xmlName === name) || METADATA_TYPES.some((t) => t.childXmlNames.includes(name));
}

/** Report, Dashboard, Document, EmailTemplate: listed one folder at a time. */
export function isInFolderType(name: string): name is keyof typeof FOLDER_TYPE_OF {
  return name in FOLDER_TYPE_OF;
}

export function isImplemented(name: string): name is ImplementedType {
  return (IMPLEMENTED as readonly string[]).includes(name);
}

export function typeInfo(name: string): MetadataTypeInfo | undefined {
  return METADATA_TYPES.find((t) => t.xmlName === name);
}

/** A call the Metadata API answers with a fault (`sf:<code>`, faultstring `<code>: <message>`). */
export class MetadataApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
