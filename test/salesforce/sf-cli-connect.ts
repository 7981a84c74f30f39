// Child-process fixture for the sf-cli flow: records an org in the Salesforce CLI's store under an
// alias (as `sf org login access-token --alias` does), then connects to it through connectOrg by
// that alias. Run with HOME set to a temporary folder. Prints one JSON line.
import { AuthInfo } from '@salesforce/core';
import { AuthenticationError } from '../../src/core/errors.ts';
import { connectOrg } from '../../src/salesforce/index.ts';

const [instanceUrl, accessToken, alias] = process.argv.slice(2) as [string, string, string];

const authInfo = await AuthInfo.create({ accessTokenOptions: { accessToken, loginUrl: instanceUrl, instanceUrl } });
await authInfo.save();
await authInfo.handleAliasAndDefaultSettings({ alias, setDefault: false, setDefaultDevHub: false });

const org = await connectOrg({ kind: 'sf-cli', alias });
const identity = await org.identity();
const counts = await org.recordCounts(['Account']);
let unknownAlias = '';
try {
  await connectOrg({ kind: 'sf-cli', alias: 'no-such-alias' });
} catch (error) {
  unknownAlias = error instanceof AuthenticationError ? error.message : `not an AuthenticationError: ${String(error)}`;
}
process.stdout.write(`${JSON.stringify({ identity, accounts: counts.get('Account'), unknownAlias })}\n`);
