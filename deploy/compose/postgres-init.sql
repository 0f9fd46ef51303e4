-- One database per service, each owned by a role of its own, as in production where each
-- service gets its own connection Secret. Development passwords only.
CREATE ROLE tenants LOGIN PASSWORD 'tenants-dev';
CREATE DATABASE tenants OWNER tenants;
CREATE ROLE auth LOGIN PASSWORD 'auth-dev';
CREATE DATABASE auth OWNER auth;
CREATE ROLE usercache LOGIN PASSWORD 'usercache-dev';
CREATE DATABASE usercache OWNER usercache;
