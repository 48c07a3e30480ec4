global using CloudDevEnv.Access;
global using CloudDevEnv.Access.Pages;
global using CloudDevEnv.Platform;
