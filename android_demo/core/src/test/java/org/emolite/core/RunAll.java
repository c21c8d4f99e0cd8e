package org.emolite.core;

import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;
import org.junit.internal.TextListener;

/** Runs every core test class with JUnit 4 and ends with a plain "N passed, N failed" line. */
public final class RunAll {
    private RunAll() {}

    public static void main(String[] args) throws Exception {
        JUnitCore core = new JUnitCore();
        core.addListener(new TextListener(System.out));
        Class<?>[] classes = new Class<?>[args.length];
        for (int i = 0; i < args.length; i++) {
            classes[i] = Class.forName(args[i]);
        }
        Result result = core.run(classes);
        for (Failure failure : result.getFailures()) {
            System.out.println("FAILED " + failure.getTestHeader());
        }
        int failed = result.getFailureCount();
        System.out.println("junit: " + (result.getRunCount() - failed) + " passed, " + failed + " failed");
        System.exit(result.wasSuccessful() ? 0 : 1);
    }
}
