// Lint rules, including the architecture: dependencies point inward (shells → use cases →
// ports → core), and the product and the emulator never import each other.
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';

// Every other folder of src/ is a use case (test/architecture.test.ts checks that none is left out).
const useCases = ['backup', 'restore', 'compare', 'export', 'schedule', 'verify', 'orgs', 'users', 'retention', 'search', 'notify', 'stream', 'migrate', 'archive', 'metadata', 'permissions'];
// Adapters: the vault's engines, and src/salesforce, which implements the org port (src/core/org-client.ts).
const adapters = ['./src/store/sqlite', './src/store/postgres', './src/store/fs', './src/store/s3', './src/salesforce'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'test-artifacts/**', '.orgvault/**', '**/.scratch/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { import: importPlugin },
    settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './src', from: './emulator', message: 'Product code reaches Salesforce only through src/salesforce, by URL: never the emulator.' },
            { target: './emulator', from: './src', message: 'The emulator is just another org: it must not depend on the product.' },
            { target: './src/core', from: './src', except: ['./core'], message: 'src/core is the innermost layer: domain types and errors only.' },
            { target: './src/crypto', from: './src', except: ['./crypto', './core'], message: 'src/crypto depends only on core.' },
            { target: './src/store', from: './src', except: ['./store', './core', './crypto'], message: 'The vault depends only on core and crypto.' },
            { target: './src/salesforce', from: './src', except: ['./salesforce', './core'], message: 'src/salesforce depends only on core.' },
            { target: './src/server', from: './src/cli', message: 'The server and the CLI are shells side by side: what both need lives in a use case or core.' },
            ...useCases.map((name) => ({
              target: `./src/${name}`,
              from: [...adapters, './src/server', './src/cli'],
              message: 'Use cases depend on ports, never on a concrete adapter or a shell.',
            })),
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:fs', 'node:fs/*', 'node:net', 'node:http', 'node:https', 'node:child_process', 'better-sqlite3', 'pg'], message: 'src/core does no I/O.' }] }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/salesforce/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@jsforce/*', 'jsforce'], message: 'jsforce types stay inside src/salesforce.' }] }],
    },
  },
);
