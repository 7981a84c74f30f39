// Binary metadata files (static resources, documents) survive backup, compare and export byte for
// byte: held as base64 behind a marker, never decoded as text, named rather than line-diffed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { BINARY_FILE_PREFIX, isBinaryMetadataFile, metadataFileBytes, metadataFileText } from '../../src/core/metadata.ts';
import { diffComponentFiles } from '../../src/metadata/compare.ts';
import { buildMetadataPackage, zipMetadataPackage } from '../../src/metadata/export-package.ts';

// A PNG's first bytes: not UTF-8 (0x89), and a NUL inside.
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);

describe('binary metadata files', () => {
  test('text stays text; bytes that are not UTF-8 text are kept as base64 and come back whole', () => {
    assert.equal(metadataFileText(Buffer.from('<ApexClass>é</ApexClass>', 'utf8')), '<ApexClass>é</ApexClass>');
    const held = metadataFileText(PNG);
    assert.ok(held.startsWith(BINARY_FILE_PREFIX));
    assert.ok(isBinaryMetadataFile(held));
    assert.deepEqual(Uint8Array.from(metadataFileBytes(held)), PNG);
    // Valid UTF-8 with a NUL is not text either.
    assert.ok(isBinaryMetadataFile(metadataFileText(Uint8Array.from([0x61, 0x00, 0x62]))));
    assert.equal(Buffer.from(metadataFileBytes('plain')).toString('utf8'), 'plain');
  });

  test('compare names a changed binary file instead of diffing its base64', () => {
    const before = { 'staticresources/logo.resource': metadataFileText(PNG), 'staticresources/logo.resource-meta.xml': '<StaticResource/>' };
    const after = { ...before, 'staticresources/logo.resource': metadataFileText(Uint8Array.from([...PNG, 0xff])) };
    const { files, diff } = diffComponentFiles(before, after);
    assert.deepEqual(files, [{ path: 'staticresources/logo.resource', change: 'changed' }]);
    assert.equal(diff, 'Binary files a/staticresources/logo.resource and b/staticresources/logo.resource differ\n');
  });

  test('an export zip holds the binary file byte for byte, under its own name', async () => {
    const files = { 'staticresources/logo.resource': metadataFileText(PNG), 'staticresources/logo.resource-meta.xml': '<?xml version="1.0"?><StaticResource/>' };
    const pkg = buildMetadataPackage([{ type: 'StaticResource', fullName: 'logo', files }], { org: 'prod', point: 'now' });
    const zip = await JSZip.loadAsync(await zipMetadataPackage(pkg));
    const entry = Object.values(zip.files).find((f) => f.name.endsWith('staticresources/logo.resource'));
    assert.ok(entry, Object.keys(zip.files).join(', '));
    assert.deepEqual(await entry.async('uint8array'), PNG);
  });
});
