namespace CloudDevEnv.DevContainers.Tests.Compose;

/// <summary>Compose setups shaped like the ones real repositories bring: the official dev container templates
/// (an app built from the repository beside a database, the app sharing the database's network), the "existing
/// compose file" template (the project's own docker-compose.yml plus a devcontainer override), and the YAML habits of
/// hand-written files (anchors, merge keys, .env variables with defaults, extends).</summary>
internal static class ComposeTemplates
{
    /// <summary>As the postgres templates write it (python-postgres, go-postgres, java-postgres, ruby-rails-postgres).</summary>
    public static TestRepository AppAndDatabase(TestRepository repo) => repo
        .With(".devcontainer/devcontainer.json", """
            {
              "name": "Python 3 & PostgreSQL",
              "dockerComposeFile": "docker-compose.yml",
              "service": "app",
              "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}",
              "features": { "ghcr.io/devcontainers/features/node:1": {} },
              "forwardPorts": [5432],
              "customizations": { "vscode": { "extensions": ["ms-python.python"] } }
            }
            """)
        .With(".devcontainer/Dockerfile", "FROM mcr.microsoft.com/devcontainers/python:1-3.12-bookworm\n")
        .With(".devcontainer/.env", "PG_VERSION=16\n# a comment\nexport APP_PORT=8000\n")
        .With(".devcontainer/init.sql", "CREATE TABLE greeting (text varchar);\n")
        .With(".devcontainer/docker-compose.yml", """
            version: '3.8'
            x-common-env: &common-env
              LANG: C.UTF-8
              TZ: "UTC"
            services:
              app:
                build:
                  context: ..
                  dockerfile: .devcontainer/Dockerfile
                  args:
                    VARIANT: "3.12"
                env_file: app.env
                volumes:
                  - ../..:/workspaces:cached
                # Overrides default command so things don't shut down after the process ends.
                command: sleep infinity
                # Runs app on the same network as the database container, allows "forwardPorts" in devcontainer.json function.
                network_mode: service:db
                environment:
                  <<: *common-env
                  DATABASE_URL: postgres://postgres:${DB_PASSWORD:-postgres}@localhost:5432/app
                  PORT: ${APP_PORT}
                depends_on:
                  db:
                    condition: service_healthy
              db:
                image: postgres:${PG_VERSION}
                restart: unless-stopped
                volumes:
                  - postgres-data:/var/lib/postgresql/data
                  - ./init.sql:/docker-entrypoint-initdb.d/init.sql:ro
                environment:
                  - POSTGRES_PASSWORD=postgres
                  - POSTGRES_DB=app
                  - POSTGRES_USER
                healthcheck:
                  test: ["CMD-SHELL", "pg_isready -U postgres"]
                  interval: 5s
                  timeout: 3s
                  retries: 5
                ports:
                  - "5432:5432"
            volumes:
              postgres-data:
            """)
        .With(".devcontainer/app.env", "FROM_ENV_FILE=yes\nPORT=1\n");

    /// <summary>As the "Existing Docker Compose (Extend)" template writes it: the project's file, then the override.</summary>
    public static TestRepository ExistingComposeExtended(TestRepository repo) => repo
        .With(".devcontainer/devcontainer.json", """
            {
              "dockerComposeFile": ["../docker-compose.yml", "docker-compose.extend.yml"],
              "service": "web",
              "runServices": ["web", "cache"],
              "shutdownAction": "stopCompose",
              "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}"
            }
            """)
        .With("Dockerfile", "FROM node:20\n")
        .With("docker-compose.yml", """
            services:
              node-base:
                build: .
                environment:
                  NODE_ENV: production
                  TZ: UTC
              web:
                extends: node-base
                ports: ["3000:3000"]
                environment:
                  REDIS_URL: redis://cache:6379
                command: ["node", "server.js"]
                depends_on: [cache]
              cache:
                image: redis:7-alpine
                command: redis-server --save "" --appendonly no
              worker:
                extends: { service: node-base, file: docker-compose.yml }
                command: node worker.js
            """)
        .With(".devcontainer/docker-compose.extend.yml", """
            version: '3.8'
            services:
              web:
                volumes:
                  - ..:/workspaces:cached
                environment:
                  NODE_ENV: development
                command: /bin/sh -c "while sleep 1000; do :; done"
            """);
}
