global using CloudDevEnv.Contracts.Workspaces;
global using CloudDevEnv.Runtime;
global using CloudDevEnv.Runtime.Docker;
global using Xunit;
