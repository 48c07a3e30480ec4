global using System.Collections.Immutable;
global using System.Net;
global using CloudDevEnv.Contracts.Workspaces;
global using CloudDevEnv.Runtime;
global using Xunit;
global using CloudDevEnv.Access;
global using CloudDevEnv.Access.Pages;
global using CloudDevEnv.Platform;
