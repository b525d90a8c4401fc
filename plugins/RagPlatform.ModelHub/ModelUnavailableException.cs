namespace RagPlatform.ModelHub;

/// <summary>
/// A model could not be had: the message says why and what to set (a local model path, the token, the endpoint,
/// offline mode). It never contains the token.
/// </summary>
public sealed class ModelUnavailableException : Exception
{
    public ModelUnavailableException()
    {
    }

    public ModelUnavailableException(string message)
        : base(message)
    {
    }

    public ModelUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
