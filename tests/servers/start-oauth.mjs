// Test server, not shipped: oauth2-mock-server on 127.0.0.1 with a STRICT=1 layer that adds
// the checks the library leaves out: single-use codes, redirect_uri/client_id binding,
// code_verifier required when a challenge was sent, refresh tokens must be issued ones.
// Usage: PORT=8082 STRICT=1 node start-oauth.mjs
import { OAuth2Server } from 'oauth2-mock-server'

const port = Number(process.env.PORT || 8081)
const strict = process.env.STRICT === '1'
const server = new OAuth2Server()
await server.issuer.keys.generate('RS256')
server.issuer.url = process.env.ISSUER || `http://127.0.0.1:${port}`

const codes = new Map() // code -> { redirect_uri, client_id, pkce }
const refreshTokens = new Set()
server.service.on('beforeAuthorizeRedirect', (redir, req) => {
  const code = redir.url.searchParams.get('code')
  if (code) codes.set(code, { redirect_uri: req.query.redirect_uri, client_id: req.query.client_id, pkce: !!req.query.code_challenge })
})
server.service.on('beforeResponse', (resp, req) => {
  const b = req.body
  const fail = (d) => { resp.statusCode = 400; resp.body = { error: 'invalid_grant', error_description: d } }
  if (strict && b.grant_type === 'authorization_code') {
    const c = codes.get(b.code); codes.delete(b.code)
    if (!c) return fail('unknown or already used code')
    if (c.redirect_uri !== b.redirect_uri) return fail('redirect_uri mismatch')
    if (c.client_id !== b.client_id) return fail('client_id mismatch')
    if (c.pkce && !b.code_verifier) return fail('code_verifier required')
  }
  if (strict && b.grant_type === 'refresh_token') {
    if (!refreshTokens.delete(b.refresh_token)) return fail('unknown or already used refresh_token')
  }
  if (resp.body && resp.body.refresh_token) refreshTokens.add(resp.body.refresh_token)
})

await server.start(port, '127.0.0.1')
console.log(JSON.stringify({ ready: true, issuer: server.issuer.url, strict }))
const stop = async () => { await server.stop(); process.exit(0) }
process.on('SIGTERM', stop); process.on('SIGINT', stop)
