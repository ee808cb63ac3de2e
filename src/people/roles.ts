/** Roles a person can have. Operators and admins also come from the environment. */
export const ROLES = ['client', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
