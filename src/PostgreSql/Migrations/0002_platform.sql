-- 0002: the platform's own tables beside Orleans'. Grain state (workspaces, owners, tokens, idempotency keys) lives in
-- OrleansStorage; what ASP.NET Core needs shared by every API process lives here.

-- The keys that protect session cookies and sign-in state: every API process must read the same ones, so that a
-- browser signed in through one is signed in through all.
CREATE TABLE cde_dataprotection_keys
(
    friendly_name text        NOT NULL PRIMARY KEY,
    xml           text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
