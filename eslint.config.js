// eslint's recommended rules over the viewer, its build script and the bench pages' scripts.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['webclient/dist/**', 'server/chromatile/static/**', 'node_modules/**', '.venv/**', 'bench/out/**'] },
  js.configs.recommended,
  {
    files: ['webclient/src/**/*.js'],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
    rules: { 'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_' }] },
  },
  {
    files: ['bench/viv/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['webclient/*.mjs', 'webclient/test/**/*.js', 'webclient/test/**/*.mjs', 'bench/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: globals.node },
  },
];
