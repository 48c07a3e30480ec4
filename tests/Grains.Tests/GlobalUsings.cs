global using CloudDevEnv.Contracts.Owners;
global using CloudDevEnv.Contracts.Workspaces;
global using CloudDevEnv.Runtime;
global using CloudDevEnv.TestDoubles;
global using Xunit;
