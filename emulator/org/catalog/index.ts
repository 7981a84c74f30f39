/**
 * The emulated org's object catalog: the standard objects a backup product meets in every org plus
 * the org's custom objects. Each call builds fresh definitions, so an org may change its copy
 * (metadata deploys, audit-field permission) without touching another org's.
 */
import type { ObjectDef } from '../schema.ts';
import { event, task } from './activities.ts';
import { customerInteraction, invoice, invoiceLine, project } from './custom.ts';
import type { CatalogObject } from './fields.ts';
import { attachment, contentDocument, contentDocumentLink, contentVersion, documentObject, folder, note } from './files.ts';
import {
  account,
  campaign,
  campaignMember,
  contact,
  lead,
  opportunity,
  opportunityContactRole,
  opportunityLineItem,
  pricebook2,
  pricebookEntry,
  product2,
} from './sales.ts';
import { caseComment, caseObject } from './service.ts';
import { group, loginHistory, organization, profile, recordType, setupAuditTrail, user } from './setup.ts';

export { ACCOUNT_RECORD_TYPES } from './sales.ts';
export { CUSTOMER_INTERACTION_INDEX } from './custom.ts';
export { MASTER_RECORD_TYPE_ID, recordTypeId } from './fields.ts';
export type { CatalogField, CatalogObject } from './fields.ts';

export function standardCatalog(): ObjectDef[] {
  const objects: CatalogObject[] = [
    user(),
    profile(),
    group(),
    organization(),
    account(),
    contact(),
    lead(),
    opportunity(),
    opportunityLineItem(),
    opportunityContactRole(),
    product2(),
    pricebook2(),
    pricebookEntry(),
    campaign(),
    campaignMember(),
    caseObject(),
    caseComment(),
    task(),
    event(),
    note(),
    attachment(),
    folder(),
    documentObject(),
    contentVersion(),
    contentDocument(),
    contentDocumentLink(),
    loginHistory(),
    setupAuditTrail(),
    invoice(),
    invoiceLine(),
    project(),
    customerInteraction(),
  ];
  // RecordType.SobjectType lists the objects that support record types.
  const withRecordTypes = objects.filter((o) => o.recordTypes?.length).map((o) => o.name).sort();
  return [...objects.slice(0, 3), recordType(withRecordTypes), ...objects.slice(3)];
}
