global using System.Collections.Immutable;
global using CloudDevEnv.Contracts.Owners;
global using CloudDevEnv.Contracts.Workspaces;
global using CloudDevEnv.Runtime;
global using Microsoft.Extensions.Logging;
global using Microsoft.Extensions.Options;
global using Orleans;
global using Orleans.Runtime;
