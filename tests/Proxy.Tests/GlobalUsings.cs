global using System.Collections.Immutable;
global using System.Net;
global using CloudDevEnv.Contracts.Workspaces;
global using CloudDevEnv.Runtime;
global using Xunit;
