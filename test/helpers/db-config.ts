import { fileURLToPath } from 'node:url';

export const PGLITE_TEMPLATE_FILE = fileURLToPath(new URL('../../.tmp/pglite-template.tar', import.meta.url));

export function templateDatabaseName(migrationsHash: string): string {
  return `orb_template_${migrationsHash}`;
}
