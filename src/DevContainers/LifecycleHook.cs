namespace CloudDevEnv.DevContainers;

/// <summary>The lifecycle command properties, in the order the spec runs them.</summary>
public enum LifecycleHook
{
    /// <summary>Runs on the host before the container is created. CloudDevEnv never runs it: the "host"
    /// would be the shared server.</summary>
    InitializeCommand = 0,
    OnCreateCommand = 1,
    UpdateContentCommand = 2,
    PostCreateCommand = 3,
    PostStartCommand = 4,
    PostAttachCommand = 5,
}
