global using CloudDevEnv.Runtime;
global using CloudDevEnv.Runtime.Docker;
global using Xunit;
global using Xunit.Abstractions;
