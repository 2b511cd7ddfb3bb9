/** The account page's form bodies (zod at the edge). Every form carries `csrf`. */
import { z } from 'zod';

const csrf = z.string().max(200);
const id = z.string().min(1).max(200);

export const forms = {
  password: z.object({ csrf, username: z.string().max(320).optional(), current: z.string().min(1).max(1024).optional(), password: z.string().min(1).max(1024), confirm: z.string().max(1024) }).strict(),
  endSession: z.object({ csrf, session: id }).strict(),
  endAllSessions: z.object({ csrf }).strict(),
  createToken: z
    .object({
      csrf,
      name: z.string().trim().min(1).max(100),
      // One checkbox arrives as a string, several as an array.
      scopes: z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v])).pipe(z.array(z.string().min(1).max(100)).min(1).max(50)),
      expiresIn: z.coerce.number().int().positive(),
    })
    .strict(),
  revokeToken: z.object({ csrf, id }).strict(),
  disconnectApp: z.object({ csrf, client: id }).strict(),
  unlinkIdentity: z.object({ csrf, provider: id, subject: z.string().min(1).max(500) }).strict(),
} as const;

/** The CSRF field alone, read before the rest is validated (a forged post is refused as such, not as malformed). */
export const csrfOnly = z.object({ csrf: z.string().max(200) }).loose();
