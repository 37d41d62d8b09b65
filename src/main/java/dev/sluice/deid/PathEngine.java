package dev.sluice.deid;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.FhirVersionEnum;
import dev.sluice.fhir.TypeDefinitions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.hl7.fhir.exceptions.FHIRException;
import org.hl7.fhir.exceptions.PathEngineException;
import org.hl7.fhir.r4.fhirpath.ExpressionNode;
import org.hl7.fhir.r4.fhirpath.FHIRPathEngine;
import org.hl7.fhir.r4.fhirpath.FHIRPathUtilityClasses.FunctionDetails;
import org.hl7.fhir.r4.fhirpath.IHostApplicationServices;
import org.hl7.fhir.r4.fhirpath.TypeDetails;
import org.hl7.fhir.r4.hapi.ctx.HapiWorkerContext;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.utilities.fhirpath.FHIRPathConstantEvaluationMode;

/**
 * HAPI's FHIRPath engine with the two helper functions of FHIR Tools for Anonymization.
 *
 * <p>{@code nodesByType('T')} and {@code nodesByName('n')} are custom functions resolved through
 * {@link IHostApplicationServices}, not a rewrite of the expression: they have to stop at nested resources, which no
 * standard FHIRPath function does, and they read the per-resource node index that {@link ResourceScope} builds (passed
 * as the evaluation's app context), so they cost a lookup rather than a tree walk.
 *
 * <p>Type checks ({@code as Age}, {@code is}, {@code ofType}) ask the worker context whether a type exists. The full
 * StructureDefinition set is a large extra artifact that takes seconds to load, so {@link TypeDefinitions} answers from
 * HAPI's own model instead. Evaluation only reads shared state, so one instance serves all threads.
 */
final class PathEngine {

    private final FHIRPathEngine engine;

    PathEngine(FhirContext fhirContext) {
        if (fhirContext.getVersion().getVersion() != FhirVersionEnum.R4) {
            throw new IllegalArgumentException("de-identification needs an R4 FhirContext, got " + fhirContext.getVersion().getVersion());
        }
        engine = new FHIRPathEngine(new HapiWorkerContext(fhirContext, new TypeDefinitions(fhirContext)));
        engine.setHostServices(new Functions());
    }

    /** Compiles once; the result is immutable in use and may be evaluated by any PathEngine. */
    ExpressionNode compile(String expression) {
        return engine.parse(expression);
    }

    List<Base> evaluate(ResourceScope scope, Base focus, ExpressionNode expression) {
        return engine.evaluate(scope, scope.resource(), scope.resource(), focus, expression);
    }

    private static final class Functions implements IHostApplicationServices {

        @Override
        public FunctionDetails resolveFunction(FHIRPathEngine engine, String name) {
            return switch (name) {
                case "nodesByType" -> new FunctionDetails("descendants of a type, not crossing into nested resources", 1, 1);
                case "nodesByName" -> new FunctionDetails("descendants of a name, not crossing into nested resources", 1, 1);
                default -> null;
            };
        }

        @Override
        public List<Base> executeFunction(FHIRPathEngine engine, Object appContext, List<Base> focus, String name,
                List<List<Base>> parameters) {
            if (!(appContext instanceof ResourceScope scope) || parameters.isEmpty() || parameters.get(0).isEmpty()) {
                return List.of();
            }
            String argument = parameters.get(0).get(0).primitiveValue();
            Predicate<Node> test = "nodesByType".equals(name)
                    ? node -> argument.equals(node.type())
                    : node -> argument.equals(node.name());
            List<Base> result = new ArrayList<>();
            for (Base item : focus) {
                Node node = scope.nodeOf(item);
                if (node != null) {
                    node.selfAndDescendantsWithinResource(n -> {
                        if (test.test(n)) {
                            result.add(n.value());
                        }
                    });
                }
            }
            return result;
        }

        @Override
        public TypeDetails checkFunction(FHIRPathEngine engine, Object appContext, String functionName, TypeDetails focus,
                List<TypeDetails> parameters) {
            return null;
        }

        @Override
        public List<Base> resolveConstant(FHIRPathEngine engine, Object appContext, String name, FHIRPathConstantEvaluationMode mode) {
            return List.of();
        }

        @Override
        public TypeDetails resolveConstantType(FHIRPathEngine engine, Object appContext, String name, FHIRPathConstantEvaluationMode mode) {
            return null;
        }

        @Override
        public boolean log(String argument, List<Base> focus) {
            return false;
        }

        @Override
        public Base resolveReference(FHIRPathEngine engine, Object appContext, String url, Identifier identifier, Base refContext) {
            return null;
        }

        @Override
        public boolean conformsToProfile(FHIRPathEngine engine, Object appContext, Base item, String url) throws FHIRException {
            throw new PathEngineException("conformsTo() is not supported in de-identification rules");
        }

        @Override
        public ValueSet resolveValueSet(FHIRPathEngine engine, Object appContext, String url) {
            return null;
        }

        @Override
        public boolean paramIsType(String name, int index) {
            return false;
        }
    }
}
