// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Layer boundaries: what each part of the tree may import (see docs/architecture.md). */
const layers = [
  {
    files: ['machines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // zod (a pure library) describes each step type's catalogue keys in machines/step-types/.
              regex: '^(?!xstate(/|$)|zod$|\\./|\\.\\./[\\w.-]+\\.js$)',
              message: 'machines/ is pure: it imports only xstate, zod and its own modules.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/bot/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/db/schema', '**/db/schema.js'],
              message: 'The bot reaches the database through src/flows/ and the other services, never its tables.',
            },
            { group: ['drizzle-orm', 'drizzle-orm/*', 'postgres', '@electric-sql/*'], message: 'No SQL in the bot: use a service.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts', 'machines/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/config/env.ts reads the environment.' },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.tmp/', 'dist/', 'drizzle/', 'src/playground/web/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // An `async` function that does not await yet keeps its promise-returning contract (interfaces, tests' stubs).
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // vitest's asymmetric matchers (`expect.any`, `expect.stringMatching`) are typed `any`.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  ...layers,
);
