// Salesforce Files, Attachments and Documents in the emulator, over a real server: multipart and
// base64 uploads, streamed downloads, the ContentVersion/ContentDocument model, size limits and the
// ContentDocumentLink query restriction, with unmodified jsforce where a client would use it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@jsforce/jsforce-node';
import { startEmulator } from '../../emulator/index.ts';
import type { RunningEmulator } from '../../emulator/index.ts';

const VERSION = '62.0';
const API = `/services/data/v${VERSION}`;

/** Query rows are read field by field in assertions; typing every shape would only restate them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Part {
  name: string;
  body: Buffer | string;
  filename?: string;
  contentType?: string;
}

/** A multipart body the way Salesforce's documentation writes it (a `;` after the disposition). */
function multipart(boundary: string, parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename ? ` filename="${part.filename}";` : '';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}";${filename}\r\nContent-Type: ${part.contentType ?? 'application/json'}\r\n\r\n`;
    chunks.push(Buffer.from(head), Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

describe('files', () => {
  let emulator: RunningEmulator;
  let conn: Connection;
  let accountId: string;
  let opportunityId: string;

  before(async () => {
    emulator = await startEmulator({ profile: 'demo', seed: 1 });
    const { info } = emulator;
    conn = new Connection({ loginUrl: info.loginUrl, version: VERSION, oauth2: { loginUrl: info.loginUrl, clientId: info.clientId, clientSecret: info.clientSecret } });
    await conn.login(info.username, info.password);
    accountId = (await conn.query<{ Id: string }>('SELECT Id FROM Account LIMIT 1')).records[0]!.Id;
    opportunityId = (await conn.query<{ Id: string }>('SELECT Id FROM Opportunity LIMIT 1')).records[0]!.Id;
  });
  after(async () => {
    await emulator.close();
  });

  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${emulator.info.instanceUrl}${path.startsWith('/services') ? path : `${API}${path}`}`, {
      ...init,
      headers: { Authorization: `Bearer ${conn.accessToken!}`, ...(init.headers as Record<string, string> | undefined) },
    });

  const upload = async (object: string, entity: Record<string, unknown>, field: string, bytes: Buffer, filename: string, contentType = 'application/octet-stream'): Promise<Response> => {
    const boundary = `boundary_${randomBytes(6).toString('hex')}`;
    const entityPart = object === 'ContentVersion' ? 'entity_content' : `entity_${object.toLowerCase()}`;
    return api(`/sobjects/${object}/`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary="${boundary}"` },
      body: multipart(boundary, [
        { name: entityPart, body: JSON.stringify(entity) },
        { name: field, body: bytes, filename, contentType },
      ]),
    });
  };

  const download = async (path: string): Promise<{ response: Response; bytes: Buffer; chunks: number }> => {
    const response = await api(path);
    assert.equal(response.status, 200, path);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body! as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
    return { response, bytes: Buffer.concat(chunks), chunks: chunks.length };
  };

  const version = async (id: string): Promise<Json> =>
    (await conn.query(`SELECT Id, Title, ContentDocumentId, VersionNumber, IsLatest, ContentSize, FileType, FileExtension, Checksum, PublishStatus, FirstPublishLocationId, VersionData FROM ContentVersion WHERE Id = '${id}'`)).records[0];
  const contentDocument = async (id: string): Promise<Json> =>
    (await conn.query(`SELECT Id, Title, LatestPublishedVersionId, ContentSize, FileType, FileExtension, OwnerId FROM ContentDocument WHERE Id = '${id}'`)).records[0];
  const links = async (documentId: string): Promise<Json[]> =>
    (await conn.query(`SELECT LinkedEntityId, ShareType, Visibility FROM ContentDocumentLink WHERE ContentDocumentId = '${documentId}'`)).records;

  test('a multipart ContentVersion makes a new file and downloads byte for byte, typed and sized', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(300_000)]);
    const res = await upload('ContentVersion', { PathOnClient: 'Q3 Report.final.pdf', ReasonForChange: 'first' }, 'VersionData', bytes, 'Q3 Report.final.pdf', 'application/pdf');
    assert.equal(res.status, 201);
    const created = (await res.json()) as Json;
    assert.deepEqual(created.errors, []);
    assert.equal(created.success, true);
    assert.equal(res.headers.get('location'), `${API}/sobjects/ContentVersion/${created.id}`);

    const cv = await version(created.id);
    assert.equal(cv.Title, 'Q3 Report.final', 'the title defaults to the file name without its extension');
    assert.equal(cv.VersionNumber, '1');
    assert.equal(cv.IsLatest, true);
    assert.equal(cv.ContentSize, bytes.length);
    assert.equal(cv.FileType, 'PDF');
    assert.equal(cv.FileExtension, 'pdf');
    assert.equal(cv.Checksum, md5(bytes));
    assert.equal(cv.VersionData, `${API}/sobjects/ContentVersion/${created.id}/VersionData`);
    assert.match(cv.ContentDocumentId, /^069/);

    const doc = await contentDocument(cv.ContentDocumentId);
    assert.equal(doc.Title, 'Q3 Report.final');
    assert.equal(doc.LatestPublishedVersionId, created.id);
    assert.equal(doc.ContentSize, bytes.length);
    assert.equal(doc.FileType, 'PDF');

    const { response, bytes: downloaded } = await download(cv.VersionData);
    assert.equal(response.headers.get('content-type'), 'application/pdf');
    assert.equal(response.headers.get('content-length'), String(bytes.length));
    assert.ok(downloaded.equals(bytes));
  });

  test('a FormData upload (undici) and a JSON base64 upload through jsforce, read back with jsforce', async () => {
    const bytes = randomBytes(40_000);
    const form = new FormData();
    form.append('entity_content', new Blob([JSON.stringify({ Title: 'From a form', PathOnClient: 'form.bin' })], { type: 'application/json' }));
    form.append('VersionData', new Blob([bytes]), 'form.bin');
    const res = await api('/sobjects/ContentVersion', { method: 'POST', body: form });
    assert.equal(res.status, 201);
    const formId = ((await res.json()) as Json).id as string;
    const fromForm = await download(`/sobjects/ContentVersion/${formId}/VersionData`);
    assert.ok(fromForm.bytes.equals(bytes));
    assert.equal(fromForm.response.headers.get('content-type'), 'application/octet-stream');

    const text = Buffer.from('timestamp,value\n2025-01-01,1\n');
    const created = await conn.sobject('ContentVersion').create({ Title: 'Readings', PathOnClient: 'readings.csv', VersionData: text.toString('base64') });
    assert.ok(created.success);
    const cv = await version(created.id!);
    assert.equal(cv.ContentSize, text.length);
    assert.equal(cv.FileType, 'CSV');
    const streamed = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const stream = conn.sobject('ContentVersion').record(created.id!).blob('VersionData');
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', reject);
    });
    assert.ok(streamed.equals(text));
    const { response } = await download(`/sobjects/ContentVersion/${created.id!}/VersionData`);
    assert.equal(response.headers.get('content-type'), 'text/csv');
  });

  test('versions: ContentDocumentId adds a version, IsLatest and LatestPublishedVersionId move, numbers count up', async () => {
    const v1 = await conn.sobject('ContentVersion').create({ Title: 'Contract', PathOnClient: 'contract.docx', VersionData: Buffer.from('draft 1').toString('base64') });
    const documentId = (await version(v1.id!)).ContentDocumentId as string;
    const v2 = await conn.sobject('ContentVersion').create({ ContentDocumentId: documentId, Title: 'Contract (signed)', PathOnClient: 'contract.docx', ReasonForChange: 'signed', VersionData: Buffer.from('draft 2, longer').toString('base64') });
    assert.ok(v2.success);
    const third = Buffer.from('final version of the contract');
    const res = await upload('ContentVersion', { ContentDocumentId: documentId, PathOnClient: 'contract.docx', Title: 'Contract (final)' }, 'VersionData', third, 'contract.docx');
    assert.equal(res.status, 201);
    const v3 = ((await res.json()) as Json).id as string;

    const versions = (await conn.query(`SELECT Id, VersionNumber, IsLatest, ContentSize, ContentDocumentId FROM ContentVersion WHERE ContentDocumentId = '${documentId}' ORDER BY VersionNumber`)).records as Json[];
    assert.deepEqual(versions.map((v) => [v.Id, v.VersionNumber, v.IsLatest]), [[v1.id, '1', false], [v2.id, '2', false], [v3, '3', true]]);
    const doc = await contentDocument(documentId);
    assert.equal(doc.LatestPublishedVersionId, v3);
    assert.equal(doc.ContentSize, third.length);
    assert.equal(doc.Title, 'Contract (final)');
    assert.equal(doc.FileType, 'WORD_X');
    // Each version keeps its own bytes.
    assert.equal((await download(`/sobjects/ContentVersion/${v1.id!}/VersionData`)).bytes.toString(), 'draft 1');
    assert.equal((await download(`/sobjects/ContentVersion/${v2.id!}/VersionData`)).bytes.toString(), 'draft 2, longer');
    // The file has one set of links, made with its first version.
    assert.equal((await links(documentId)).length, 1);
  });

  test('FirstPublishLocationId links the file to the record and to its owner; without it, the personal library', async () => {
    const published = await conn.sobject('ContentVersion').create({ PathOnClient: 'site.txt', FirstPublishLocationId: accountId, VersionData: Buffer.from('site').toString('base64') });
    const cv = await version(published.id!);
    assert.equal(cv.FirstPublishLocationId, accountId);
    assert.equal(cv.PublishStatus, 'P');
    const found = (await links(cv.ContentDocumentId)).map((l) => [l.LinkedEntityId, l.ShareType, l.Visibility]).sort();
    assert.deepEqual(found, [[accountId, 'V', 'AllUsers'], [emulator.org.apiUserId, 'I', 'AllUsers']].sort());
    // The record's files are found from the record, as a backup reads them.
    const byRecord = (await conn.query(`SELECT ContentDocumentId FROM ContentDocumentLink WHERE LinkedEntityId = '${accountId}'`)).records as Json[];
    assert.ok(byRecord.some((l) => l.ContentDocumentId === cv.ContentDocumentId));

    const personal = await conn.sobject('ContentVersion').create({ PathOnClient: 'notes.txt', VersionData: Buffer.from('mine').toString('base64') });
    const mine = await version(personal.id!);
    assert.equal(mine.FirstPublishLocationId, emulator.org.apiUserId);
    assert.equal(mine.PublishStatus, 'R');
    assert.deepEqual((await links(mine.ContentDocumentId)).map((l) => l.LinkedEntityId), [emulator.org.apiUserId]);
  });

  test('a new version needs its body and file name, with the errors Salesforce gives', async () => {
    await assert.rejects(conn.sobject('ContentVersion').create({ Title: 'No body', PathOnClient: 'x.txt' }), (e: Json) => e.errorCode === 'REQUIRED_FIELD_MISSING' && /VersionData/.test(e.message));
    await assert.rejects(conn.sobject('ContentVersion').create({ Title: 'No path', VersionData: 'aGk=' }), (e: Json) => e.errorCode === 'REQUIRED_FIELD_MISSING' && /PathOnClient/.test(e.message));
    // Versions are created, never edited: their body is fixed, and they go with their document.
    const cv = await conn.sobject('ContentVersion').create({ PathOnClient: 'fixed.txt', VersionData: 'aGk=' });
    await assert.rejects(conn.sobject('ContentVersion').update({ Id: cv.id!, VersionData: 'aGkgdGhlcmU=' }), (e: Json) => e.errorCode === 'INVALID_FIELD_FOR_INSERT_UPDATE');
  });

  test('deleting the ContentDocument takes its versions and links; queryAll still shows the versions, deleted', async () => {
    const v1 = await conn.sobject('ContentVersion').create({ PathOnClient: 'doomed.txt', FirstPublishLocationId: opportunityId, VersionData: Buffer.from('one').toString('base64') });
    const documentId = (await version(v1.id!)).ContentDocumentId as string;
    const v2 = await conn.sobject('ContentVersion').create({ ContentDocumentId: documentId, PathOnClient: 'doomed.txt', VersionData: Buffer.from('two').toString('base64') });
    assert.equal((await links(documentId)).length, 2);

    await conn.sobject('ContentDocument').destroy(documentId);
    assert.equal((await conn.query(`SELECT Id FROM ContentVersion WHERE ContentDocumentId = '${documentId}'`)).totalSize, 0);
    assert.equal((await conn.query(`SELECT Id FROM ContentDocument WHERE Id = '${documentId}'`)).totalSize, 0);
    assert.equal((await links(documentId)).length, 0);
    const all = (await conn.query(`SELECT Id, IsDeleted FROM ContentVersion WHERE ContentDocumentId = '${documentId}'`, { scanAll: true })).records as Json[];
    assert.deepEqual(all.map((v) => [v.Id, v.IsDeleted]).sort(), [[v1.id, true], [v2.id, true]].sort());
    const deletedDoc = (await conn.query(`SELECT Id, IsDeleted FROM ContentDocument WHERE Id = '${documentId}'`, { scanAll: true })).records as Json[];
    assert.deepEqual(deletedDoc.map((d) => d.IsDeleted), [true]);
    assert.equal((await api(`/sobjects/ContentVersion/${v1.id!}/VersionData`)).status, 404);

    // Undeleting the document (SOAP undelete, Apex) brings its versions and links back.
    emulator.org.undelete(documentId, { userId: emulator.org.apiUserId });
    assert.equal((await conn.query(`SELECT Id FROM ContentVersion WHERE ContentDocumentId = '${documentId}'`)).totalSize, 2);
    assert.equal((await links(documentId)).length, 2);
    assert.equal((await download(`/sobjects/ContentVersion/${v2.id!}/VersionData`)).bytes.toString(), 'two');
  });

  test('Attachment and Document bodies upload by multipart and JSON and download with their content type and length', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(5000)]);
    const res = await upload('Attachment', { ParentId: accountId, Name: 'diagram.png', ContentType: 'image/png' }, 'Body', png, 'diagram.png', 'image/png');
    assert.equal(res.status, 201);
    const attachmentId = ((await res.json()) as Json).id as string;
    const attachment = (await conn.query(`SELECT Name, BodyLength, Body FROM Attachment WHERE Id = '${attachmentId}'`)).records[0] as Json;
    assert.equal(attachment.BodyLength, png.length);
    assert.equal(attachment.Body, `${API}/sobjects/Attachment/${attachmentId}/Body`);
    const got = await download(`/sobjects/Attachment/${attachmentId}/Body`);
    assert.ok(got.bytes.equals(png));
    assert.equal(got.response.headers.get('content-type'), 'image/png');
    assert.equal(got.response.headers.get('content-length'), String(png.length));

    // Replacing the body by multipart PATCH.
    const boundary = 'patch_boundary';
    const patched = await api(`/sobjects/Attachment/${attachmentId}`, {
      method: 'PATCH',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body: multipart(boundary, [{ name: 'entity_attachment', body: '{"Description":"v2"}' }, { name: 'Body', body: 'now text', filename: 'diagram.png' }]),
    });
    assert.equal(patched.status, 204);
    assert.equal((await download(`/sobjects/Attachment/${attachmentId}/Body`)).bytes.toString(), 'now text');
    assert.equal(((await conn.sobject('Attachment').retrieve(attachmentId)) as Json).BodyLength, 8);

    const folderId = (await conn.query<{ Id: string }>("SELECT Id FROM Folder WHERE Type = 'Document' LIMIT 1")).records[0]!.Id;
    const json = await conn.sobject('Document').create({ FolderId: folderId, Name: 'Price list', DeveloperName: 'Price_list_test', ContentType: 'text/csv', Type: 'csv', Body: Buffer.from('sku,price\nVS-3,120\n').toString('base64') });
    const doc = await download(`/sobjects/Document/${json.id!}/Body`);
    assert.equal(doc.bytes.toString(), 'sku,price\nVS-3,120\n');
    assert.equal(doc.response.headers.get('content-type'), 'text/csv');
    const pdf = Buffer.from('%PDF-1.4 brochure');
    const multi = await upload('Document', { FolderId: folderId, Name: 'Brochure', DeveloperName: 'Brochure_test', Type: 'pdf' }, 'Body', pdf, 'brochure.pdf', 'application/pdf');
    assert.equal(multi.status, 201);
    const multiId = ((await multi.json()) as Json).id as string;
    const brochure = await download(`/sobjects/Document/${multiId}/body`);
    assert.ok(brochure.bytes.equals(pdf));
    // No ContentType on the record: the type follows the file extension.
    assert.equal(brochure.response.headers.get('content-type'), 'application/pdf');
    assert.equal(((await conn.sobject('Document').retrieve(multiId)) as Json).BodyLength, pdf.length);
  });

  test('a several-megabyte file of the demo streams in chunks, with its length up front', async () => {
    const big = (await conn.query("SELECT Id, ContentSize, Checksum, VersionData FROM ContentVersion WHERE PathOnClient = 'plant-walkthrough.mp4'")).records[0] as Json;
    assert.ok(big.ContentSize >= 5 * 2 ** 20);
    const { response, bytes, chunks } = await download(big.VersionData);
    assert.equal(response.headers.get('content-type'), 'video/mp4');
    assert.equal(response.headers.get('content-length'), String(big.ContentSize));
    assert.equal(bytes.length, big.ContentSize);
    assert.equal(md5(bytes), big.Checksum);
    assert.ok(chunks > 1, `streamed in ${chunks} chunks`);
  });

  test('the demo profile has files from a few bytes to megabytes, version chains, and links to accounts, opportunities and cases', async () => {
    const versions = (await conn.query("SELECT ContentDocumentId, ContentSize, VersionNumber, IsLatest FROM ContentVersion WHERE CreatedById != '" + emulator.org.apiUserId + "'")).records as Json[];
    const sizes = versions.map((v) => v.ContentSize as number);
    assert.ok(Math.min(...sizes) < 100, 'a file of a few bytes');
    assert.ok(Math.max(...sizes) > 5 * 2 ** 20, 'a file of several megabytes');
    const perDocument = new Map<string, number>();
    for (const v of versions) perDocument.set(v.ContentDocumentId, (perDocument.get(v.ContentDocumentId) ?? 0) + 1);
    assert.ok([...perDocument.values()].includes(3), 'a file with three versions');
    assert.ok([...perDocument.values()].includes(2), 'a file with two versions');
    for (const [documentId, count] of perDocument) {
      const latest = versions.filter((v) => v.ContentDocumentId === documentId && v.IsLatest);
      assert.equal(latest.length, 1);
      assert.equal(latest[0].VersionNumber, String(count));
    }
    const linked = (await conn.query(`SELECT LinkedEntityId FROM ContentDocumentLink WHERE ContentDocumentId IN ('${[...perDocument.keys()].join("','")}')`)).records as Json[];
    const prefixes = new Set(linked.map((l) => String(l.LinkedEntityId).slice(0, 3)));
    for (const prefix of ['001', '006', '500', '005']) assert.ok(prefixes.has(prefix), `links to ${prefix}`);
    const attachments = (await conn.query('SELECT BodyLength FROM Attachment')).records as Json[];
    assert.ok(attachments.some((a) => a.BodyLength > 2 ** 20));
    const documents = (await conn.query('SELECT BodyLength, ContentType FROM Document')).records as Json[];
    assert.ok(documents.some((d) => d.BodyLength > 2 ** 20));
  });

  test('size limits: 50 MB of JSON, 25 MB attachments, 5 MB documents, 2 GB multipart files', async () => {
    const oversized = `{"PathOnClient":"big.bin","VersionData":"${'A'.repeat(52_428_800)}"}`;
    const json = await api('/sobjects/ContentVersion', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: oversized });
    assert.equal(json.status, 400);
    assert.deepEqual(await json.json(), [{ errorCode: 'JSON_PARSER_ERROR', message: 'Maximum size of request reached. Maximum size of request is 52428800 bytes.' }]);

    const attachment = await upload('Attachment', { ParentId: accountId, Name: 'huge.bin' }, 'Body', Buffer.alloc(25 * 2 ** 20 + 1), 'huge.bin');
    assert.equal(attachment.status, 400);
    assert.deepEqual(await attachment.json(), [{ errorCode: 'MAXIMUM_SIZE_OF_ATTACHMENT', message: 'attachment data exceeded maximum size', fields: ['BodyLength'] }]);

    const folderId = (await conn.query<{ Id: string }>("SELECT Id FROM Folder WHERE Type = 'Document' LIMIT 1")).records[0]!.Id;
    await assert.rejects(
      conn.sobject('Document').create({ FolderId: folderId, Name: 'Too big', DeveloperName: 'Too_big', Body: Buffer.alloc(5 * 2 ** 20 + 1).toString('base64') }),
      (e: Json) => e.errorCode === 'MAXIMUM_SIZE_OF_DOCUMENT',
    );

    // A declared length over 2 GB is refused before the body is read.
    const url = new URL(`${emulator.info.instanceUrl}${API}/sobjects/ContentVersion`);
    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${conn.accessToken!}`, 'Content-Type': 'multipart/form-data; boundary=b', 'Content-Length': String(2 * 2 ** 30 + 1) },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.write('--b\r\n');
    });
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.body), [{ errorCode: 'JSON_PARSER_ERROR', message: 'Maximum size of request reached. Maximum size of request is 2147483648 bytes.' }]);
  });

  test('ContentDocumentLink queries need a filter on ContentDocumentId, LinkedEntityId or Id, unless Query All Files (API 59.0+)', async () => {
    const error = [{ errorCode: 'MALFORMED_QUERY', message: "Implementation restriction: ContentDocumentLink requires a filter by a single Id on ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using the IN operator." }];
    const query = (version: string, soql: string): Promise<Response> => api(`/services/data/v${version}/query?q=${encodeURIComponent(soql)}`);
    let res = await query('58.0', 'SELECT Id FROM ContentDocumentLink');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), error);
    for (const soql of [
      "SELECT Id FROM ContentDocumentLink WHERE ShareType = 'V'",
      `SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId != '${accountId}'`,
      `SELECT Id FROM ContentDocumentLink WHERE ContentDocumentId NOT IN ('069000000000001AAA')`,
      `SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '${accountId}' OR ShareType = 'V'`,
    ]) {
      res = await query('58.0', soql);
      assert.equal(res.status, 400, soql);
    }
    for (const soql of [
      `SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId = '${accountId}'`,
      `SELECT Id FROM ContentDocumentLink l WHERE l.ContentDocumentId IN ('069000000000001AAA') AND ShareType = 'V'`,
      "SELECT Id FROM ContentDocumentLink WHERE LinkedEntityId IN (SELECT Id FROM Account WHERE Name LIKE 'A%')",
      `SELECT COUNT() FROM ContentDocumentLink WHERE (LinkedEntityId = '${accountId}' OR LinkedEntityId = '${opportunityId}')`,
    ]) {
      res = await query('58.0', soql);
      assert.equal(res.status, 200, `${soql}: ${await res.text()}`);
    }
    res = await api(`/services/data/v58.0/queryAll?q=${encodeURIComponent('SELECT Id FROM ContentDocumentLink')}`);
    assert.equal(res.status, 400);

    // API 59.0 and later: the API user has Query All Files; without it the restriction is back.
    assert.equal((await conn.query('SELECT Id FROM ContentDocumentLink')).done, true);
    emulator.org.access.setPermission('queryAllFiles', false);
    try {
      await assert.rejects(async () => conn.query('SELECT Id FROM ContentDocumentLink'), (e: Json) => e.errorCode === 'MALFORMED_QUERY');
    } finally {
      emulator.org.access.setPermission('queryAllFiles', true);
    }
  });

  test('bodies print as base64 in JSON (the state file) and records still print the blob URL', async () => {
    const created = await conn.sobject('ContentVersion').create({ PathOnClient: 'state.txt', VersionData: Buffer.from('persist me').toString('base64') });
    const stored = emulator.org.get(created.id!)!;
    assert.equal((JSON.parse(JSON.stringify(stored)) as Json).VersionData, Buffer.from('persist me').toString('base64'));
    const record = (await conn.sobject('ContentVersion').retrieve(created.id!)) as Json;
    assert.equal(record.VersionData, `${API}/sobjects/ContentVersion/${created.id!}/VersionData`);
    assert.equal(record.ContentSize, 10);
  });
});
