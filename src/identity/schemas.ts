/** The shapes of identity input, defined once: the user service, the admin API and the CLI use these. */
import { z } from 'zod';

export const usernameSchema = z
  .string()
  .min(3, 'at least 3 characters')
  .max(64, 'at most 64 characters')
  .regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only')
  .describe('3–64 characters: letters, digits, ".", "_", "-". Unique, ignoring case.');

export const emailSchema = z.email('a valid email address').max(254).describe('Email address. Unique, ignoring case.');

export const roleNameSchema = z.string().min(1).max(64).describe('A role defined under `roles:` in gatehouse.yaml.');

export const passwordSchema = z.string().min(1).max(4096).describe('The new password; the password policy applies.');

export const createUserSchema = z
  .object({
    username: usernameSchema,
    email: emailSchema,
    password: passwordSchema.optional().describe('Initial password. Without one the user cannot log in until one is set.'),
    roles: z.array(roleNameSchema).max(64).default([]).describe('Roles to grant.'),
  })
  .strict();

export type CreateUserInput = z.input<typeof createUserSchema>;
