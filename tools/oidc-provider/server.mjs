// A real OpenID Connect provider (panva/oidc-provider) on loopback, for the sign-in tests. Its development
// interactions accept any login with any password; that login becomes the account's subject and user name.
//
//   PORT=<port> CLIENTS='<json array of client metadata>' [ADMINS=login,login] node server.mjs
//
// Accounts named in ADMINS carry groups: ["cde-admins"]. Prints "listening" once it accepts connections.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('oidc-provider: set PORT');
  process.exit(2);
}

const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS ?? '[]');
const admins = new Set((process.env.ADMINS ?? '').split(',').filter(Boolean));

const provider = new Provider(issuer, {
  clients,
  claims: { openid: ['sub'], profile: ['preferred_username', 'login', 'name', 'groups'] },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, preferred_username: sub, login: sub, name: sub, groups: admins.has(sub) ? ['cde-admins'] : [] }),
  }),
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['clouddevenv-tests-only'] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
});

http.createServer(provider.callback()).listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
