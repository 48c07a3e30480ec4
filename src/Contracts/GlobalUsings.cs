global using System.Collections.Immutable;
global using Orleans;
global using Orleans.Concurrency;
