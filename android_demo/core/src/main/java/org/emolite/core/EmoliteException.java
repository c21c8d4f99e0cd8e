package org.emolite.core;

/** Base of every error the core module raises; the message says what to do about it. */
public class EmoliteException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EmoliteException(String message) {
        super(message);
    }

    public EmoliteException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A bundle that is missing files, corrupt, or not a bundle at all. */
    public static class BundleException extends EmoliteException {
        private static final long serialVersionUID = 1L;

        public BundleException(String message) {
            super(message);
        }

        public BundleException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A bundle whose format_version this reader does not know: it must be refused, not guessed at. */
    public static class UnsupportedVersionException extends BundleException {
        private static final long serialVersionUID = 1L;

        public UnsupportedVersionException(String message) {
            super(message);
        }
    }

    /** The runtime's embeddings differ from the bundle's golden vectors: its output cannot be trusted. */
    public static class RuntimeVerificationException extends EmoliteException {
        private static final long serialVersionUID = 1L;

        public RuntimeVerificationException(String message) {
            super(message);
        }
    }

    /** Input the classifier cannot use (blank text, duplicate labels, unknown label set). */
    public static class InvalidInputException extends EmoliteException {
        private static final long serialVersionUID = 1L;

        public InvalidInputException(String message) {
            super(message);
        }
    }
}
