/**
 * Dynamic client registration (RFC 7591) and management (RFC 7592), A8, at `/oauth/register`
 * (./registration.ts). Advertised only while registration is not `off`.
 */
import type { Feature } from '../../oauth/feature.js';
import { deleteRegistration, readRegistration, register, updateRegistration } from './registration.js';

const clientIdOf = (pathParams: Readonly<Record<string, string>>): string => pathParams['clientId'] ?? '';

export const registrationFeature: Feature = {
  name: 'registration',
  endpoints: [
    {
      method: 'POST',
      path: '/oauth/register',
      registration: true,
      cors: true,
      async handle(ctx, req) {
        return { status: 201, body: await register(ctx, req.body, req.authorization, req.ip) };
      },
    },
    {
      method: 'GET',
      path: '/oauth/register/:clientId',
      cors: true,
      async handle(ctx, req) {
        return { status: 200, body: await readRegistration(ctx, clientIdOf(req.pathParams), req.authorization) };
      },
    },
    {
      method: 'PUT',
      path: '/oauth/register/:clientId',
      cors: true,
      async handle(ctx, req) {
        return { status: 200, body: await updateRegistration(ctx, clientIdOf(req.pathParams), req.body, req.authorization, req.ip) };
      },
    },
    {
      method: 'DELETE',
      path: '/oauth/register/:clientId',
      cors: true,
      async handle(ctx, req) {
        await deleteRegistration(ctx, clientIdOf(req.pathParams), req.authorization, req.ip);
        return { status: 204 };
      },
    },
  ],
  metadata: (ctx) => (ctx.config.registration !== 'off' ? { registration_endpoint: `${ctx.config.issuer}/oauth/register` } : {}),
};
