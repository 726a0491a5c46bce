import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'server/storage/generated/**',
      'client/store/generated/**',
      'data/**',
      'bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['bin/**/*.js', '*.js'], languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      // The core does no I/O: no Node built-ins, no database, no network.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'fs',
            'net',
            'http',
            'https',
            'crypto',
            'child_process',
            'better-sqlite3',
            'socket.io',
            'socket.io-client',
            'fastify',
          ],
          patterns: ['node:*', '@prisma/*'],
        },
      ],
    },
  },
);
