global using CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;
global using k8s.Models;
global using Xunit;
global using CloudDevEnv.DevContainers.Tests.ReferenceCli;
