using System.Net;

namespace RagPlatform.Sdk.Remote;

/// <summary>
/// A remote vector service refused or failed a request. The message names the service, the operation and the
/// service's own status and error text; it never contains the API key (nor any request header).
/// </summary>
public sealed class RemoteServiceException : InvalidOperationException
{
    public RemoteServiceException(string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    public RemoteServiceException()
    {
    }

    public RemoteServiceException(string message)
        : base(message)
    {
    }

    public RemoteServiceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status of the last answer, or null when none came (timeouts, refused connections).</summary>
    public HttpStatusCode? StatusCode { get; }
}
