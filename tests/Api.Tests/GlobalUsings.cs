global using System.Net;
global using System.Net.Http.Json;
global using System.Text.Json;
global using CloudDevEnv.TestDoubles;
global using Xunit;
