// How values and search text become tokens: the rules the blind index and the search share.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchRanges, matchesAll, normalizeText, queryTerms, recordTokens, searchableValues, valueTokens } from '../../src/core/search-text.ts';

const sorted = (set: Iterable<string>): string[] => [...set].sort();

describe('search tokens', () => {
  test('words: letters and digits, lower-cased, at least two characters', () => {
    assert.deepEqual(sorted(valueTokens("O'Brien & Sons, Inc. — 2nd floor, Suite 4")), sorted(['brien', 'sons', 'inc', '2nd', 'floor', 'suite']));
    assert.deepEqual(sorted(valueTokens('Multi-line\ntext\twith tabs')), sorted(['multi', 'line', 'text', 'with', 'tabs']));
  });

  test('Unicode: NFKC, diacritics folded, letters that do not decompose folded too', () => {
    assert.equal(normalizeText('Müller Zürich ÉCOLE'), 'muller zurich ecole');
    assert.equal(normalizeText('ＡＣＭＥ Ｃｏｒｐ'), 'acme corp');
    assert.equal(normalizeText('Straße Øresund Łódź'), 'strasse oresund lodz');
    // A decomposed é (e + combining accent) is the same word as a composed one.
    assert.deepEqual(sorted(valueTokens('Cafe\u0301 René')), sorted(valueTokens('Café René')));
    assert.deepEqual(sorted(valueTokens('Café René')), ['cafe', 'rene']);
  });

  test('Han, Hiragana and Katakana: each character is a token', () => {
    assert.deepEqual(sorted(valueTokens('東京タワー')), sorted(['東', '京', 'タ', 'ワ']));
    assert.deepEqual(queryTerms('東京'), [['東'], ['京']]);
  });

  test('emails are tokens whole, besides their parts', () => {
    const tokens = valueTokens('Write to Jane.Doe@Example.COM today');
    for (const t of ['jane', 'doe', 'example', 'com', 'jane.doe@example.com', 'write', 'to', 'today']) assert.ok(tokens.has(t), t);
  });

  test('phone numbers: their digits whole, and their last ten digits', () => {
    const tokens = valueTokens('+1 (415) 555-0123');
    for (const t of ['415', '555', '0123', '14155550123', '4155550123']) assert.ok(tokens.has(t), t);
    assert.ok(valueTokens('(415) 555-0123').has('4155550123'));
    // Text with digits is not a phone number.
    assert.ok(!valueTokens('Order 12345678 shipped').has('12345678shipped'));
  });

  test('what is not searched: dates, date-times, record IDs in Id fields, numbers, booleans, attributes', () => {
    const fields = {
      attributes: { type: 'Account', url: '/services/data/v62.0/sobjects/Account/001000000000001AAA' },
      Id: '001000000000001AAA',
      OwnerId: '005000000000001AAA',
      Name: 'Acme',
      CreatedDate: '2024-03-17T16:21:26.000+0000',
      SLAExpirationDate__c: '2025-01-31',
      AnnualRevenue: 5000000,
      IsDeleted: false,
      BillingAddress: { street: '1 Main St', city: 'Boston' },
      Note__c: 'Standardization', // 15 letters, the shape of an ID, but not in an Id field
    };
    assert.deepEqual(searchableValues(fields).map((v) => v.field), ['Name', 'BillingAddress.street', 'BillingAddress.city', 'Note__c']);
    assert.deepEqual(sorted(recordTokens(fields)), sorted(['acme', 'main', 'st', 'boston', 'standardization']));
  });

  test('query terms: every word required; a long digit run also as its last ten digits; no term without a word', () => {
    assert.deepEqual(queryTerms('  Acme   BOSTON '), [['acme'], ['boston']]);
    assert.deepEqual(queryTerms('14155550123'), [['14155550123', '4155550123']]);
    assert.deepEqual(queryTerms('a ! ?'), []);
    assert.ok(matchesAll(valueTokens('+1 (415) 555-0123'), queryTerms('4155550123')));
    assert.ok(matchesAll(valueTokens('(415) 555-0123'), queryTerms('+1 415 555 0123')));
    assert.ok(!matchesAll(valueTokens('Acme Paris'), queryTerms('acme boston')));
  });

  test('match ranges point at the words of the original text', () => {
    const value = 'Call Jane at +1 (415) 555-0123 — Zürich office';
    const ranges = matchRanges(value, queryTerms('zurich JANE'));
    assert.deepEqual(ranges.map(([a, b]) => value.slice(a, b)), ['Jane', 'Zürich']);
    const email = 'Contact: jane.doe@example.com';
    assert.ok(matchRanges(email, queryTerms('jane.doe@example.com')).some(([a, b]) => email.slice(a, b) === 'jane.doe@example.com'));
    assert.deepEqual(matchRanges('(415) 555-0123', queryTerms('4155550123')), [[0, 14]]);
  });
});
