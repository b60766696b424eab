// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-results/', '.puppeteerrc.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // src/reference/ holds CPU oracles for tests and benchmarks only: library code never imports them.
    files: ['src/**/*.ts'],
    ignores: ['src/reference/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/reference/*', '**/reference'],
              message:
                'src/reference/ holds CPU oracles for tests and benchmarks; library code must not import it.',
            },
            {
              // bench/ is not shipped: src/cli/bench.ts imports its types and loads it when a bench runs.
              group: ['**/bench/*', '**/bench'],
              allowTypeImports: true,
              message:
                'bench/ is not part of the package: import types only and load it lazily (src/cli/bench.ts).',
            },
          ],
        },
      ],
    },
  },
);
